from tests.snapshots import update

update()
