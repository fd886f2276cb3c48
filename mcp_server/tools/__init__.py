"""Tools, one module per Zerobyte domain, declared with ``@tool`` (``base``).

``catalogue`` places each tool in a toolset and an access level (the order of tools/list); ``registry``
builds what one server offers from it, importing only the modules that hold an offered tool. The package
itself imports nothing, so a helper module (``follow``, ``resources``) can import one tool module without
pulling in (and cycling through) all the others.
"""
