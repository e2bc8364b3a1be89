"""Review without cloud access: the program run under mocks (`offline`), what it would
create (`plan`) and what a change would do (`diff`), a picture of the data flows
(`picture`) and the handoff to a receiver (`handoff`)."""
