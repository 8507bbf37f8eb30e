"""Sphinx configuration of the course website; tools/book.py copies it to build/book/src/conf.py.

The notebooks are shown as stored (CI re-ran them under nbval): nothing is executed here.
Everything a page loads is inside the site: MathJax is copied into _static/ by tools/book.py
(pinned npm tarball, sha512-checked), the theme ships its own fonts and icons.
"""

project = "Sequence models, from scratch and with Keras"
author = "the course authors"
copyright = "the course authors, MIT licence"

# githubpages: writes .nojekyll, so GitHub Pages serves _static/ and _images/ as they are.
extensions = ["myst_nb", "sphinx_copybutton", "sphinx.ext.githubpages"]

# Show the stored outputs; never run a notebook while building the site.
nb_execution_mode = "off"
# No ipywidgets JavaScript (it would come from a CDN): tools/book.py has already replaced every
# widget output by the text of its final state.
nb_ipywidgets_js = {}
nb_merge_streams = True

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# Relative to _static/: the local copy, never a CDN.
mathjax_path = "mathjax/es5/tex-mml-chtml.js"

html_theme = "sphinx_book_theme"
html_title = "Sequence models"
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_js_files = ["course.js"]
html_show_sphinx = False
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "navigation_with_keys": False,
}

exclude_patterns = ["_build", "_original", "**.ipynb_checkpoints"]
# tools/book.py builds with -W: a broken link or a missing image stops the build. Cosmetic
# warnings do not: a skipped heading level, an output Pygments cannot colour, a MIME type
# the page does not show (the notebook stores a richer one next to it).
suppress_warnings = ["myst.header", "misc.highlighting_failure", "mystnb.unknown_mime_type"]
