"""Work from lists: a list of people (emails, external ids, Wootric ids) read from a file or
pasted text, matched against the cache, kept under a name, and one action applied to the people
it matched (Qt-free).

`reading` (a file or pasted text into rows; which column identifies people), `identifiers`
(what identifies a person and how a list's cell is read as one), `matching` (the match report),
`actions` (the action on the matched set, its preview and its batch).
"""
