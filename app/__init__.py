"""Privacy Inspector: what a website really left in your browsers."""

__version__ = "0.1.0"
