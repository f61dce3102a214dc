"""The ids the writers and the narration give out themselves, so that no id kept from the page
can equal one (EPUBCheck RSC-005 is a duplicate id).

``tb-`` for the spoken units :func:`~talkingbook.structure.segment.segment` numbers and for the
opening's elements below; ``sec-`` for each section's own element in the EPUB.
"""

ID_PREFIX = "tb-"
RESERVED_ID_PREFIXES = (ID_PREFIX, "sec-")

# Ids of the spoken elements the EPUB writes around the section's own text: its heading, and in
# the opening the byline, the dateline, the credit and the narrator notice.
TITLE_ID, BYLINE_ID, DATELINE_ID, NARRATOR_ID = "tb-title", "tb-byline", "tb-dateline", "tb-narrator"
CREDIT_ID = "tb-credit"
