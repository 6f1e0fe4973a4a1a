"""The bundled embedding model as the service reads with it: in numpy (`light.py`) for a quick
start, and through sentence-transformers once that has loaded (`warming.py`)."""
