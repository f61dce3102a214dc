"""talkingbook: turn an article into an accessible EPUB 3 and narrated MP3s."""

__version__ = "0.1.0"
