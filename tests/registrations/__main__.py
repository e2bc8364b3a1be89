from tests.registrations import update

update()
