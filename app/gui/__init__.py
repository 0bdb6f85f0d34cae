"""The desktop app: one Qt layer over the Qt-free engine.

Nothing outside this package imports Qt (a test checks), except the PDF
exporter, which imports it lazily.
"""
