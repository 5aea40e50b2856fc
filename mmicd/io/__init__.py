"""Reading uploads: real file type from the bytes, safety checks, grids and fast tables."""

from mmicd.io.read import Book, cell_text, column_letter, open_book, parse_numbers
from mmicd.io.sniff import FileProblem, detect_type, max_upload_bytes

__all__ = ["Book", "FileProblem", "cell_text", "column_letter", "detect_type", "max_upload_bytes", "open_book",
           "parse_numbers"]
