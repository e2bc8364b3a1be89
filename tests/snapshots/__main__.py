import sys

from tests.snapshots import update

update(sys.argv[1:])
