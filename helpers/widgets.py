"""Interactive figures that fall back to one static figure when nobody is watching.

Introduced in ``01_convolutions``. In JupyterLab a student gets sliders; when a notebook runs
without a front end (nbval, nbgrader, ``jupyter nbconvert --execute``) widgets would only
store state nobody sees, so the same plotting function draws one deterministic figure instead.
"""

import os

# Set to "1" to force sliders, "0" to force the static figure (e.g. in a front end this
# module does not recognise).
FORCE_ENV = "EX04_INTERACTIVE"


def frontend_attached(environ=None):
    """Whether the kernel was started by a Jupyter server that can show widgets.

    jupyter_server puts ``JPY_SESSION_NAME`` into the environment of the kernels it starts
    for a notebook; nbclient (used by nbval and nbgrader) does not. nbgrader also sets
    ``NBGRADER_EXECUTION`` while it runs a notebook.

    Parameters
    ----------
    environ : mapping, optional
        Environment to inspect; ``os.environ`` when omitted.

    Returns
    -------
    bool
    """
    environ = os.environ if environ is None else environ
    forced = environ.get(FORCE_ENV)
    if forced in ("0", "1"):
        return forced == "1"
    if environ.get("NBGRADER_EXECUTION"):
        return False
    return bool(environ.get("JPY_SESSION_NAME"))


def interactive_or_static(plot, static, environ=None, limits=None, **controls):
    """Show ``plot`` with sliders when a front end is attached, else call it once.

    Parameters
    ----------
    plot : callable
        Draws one figure from keyword arguments (and calls ``plt.show()``).
    static : dict
        Keyword arguments for the single static figure, and the setting the controls start at.
    environ : mapping, optional
        Passed to :func:`frontend_attached`.
    limits : callable, optional
        For sliders whose range depends on the other settings (an output pixel's row, say):
        ``limits(**setting)`` returns ``{name: (low, high)}`` for the current setting. The
        sliders get those ranges at the start and after every change, so they never offer a
        value the figure cannot show.
    **controls
        ipywidgets controls (or abbreviations such as ``(0, 4)``), one per keyword of ``plot``.

    Returns
    -------
    ipywidgets.interactive or None
        The widget when one is shown, so the caller can keep a handle; None for the static
        figure. (Notebooks end the line with ``;`` so nothing is printed.)
    """
    if frontend_attached(environ):
        import ipywidgets
        from IPython.display import display

        widget = ipywidgets.interactive(plot, **controls)
        # The sliders start where the text (and the static figure) is, not in the middle of
        # their range; a setting a control cannot take leaves that control as it was.
        for control in widget.kwargs_widgets:
            name = getattr(control, "_kwarg", None)
            if name in static:
                try:
                    control.value = static[name]
                except Exception:
                    pass
        if limits is not None:
            by_name = {getattr(c, "_kwarg", None): c for c in widget.kwargs_widgets}

            def apply_limits(_change=None):
                for name, (low, high) in limits(**widget.kwargs).items():
                    slider = by_name[name]
                    # Widen before narrowing, so min never passes max on the way.
                    slider.max = max(slider.max, high)
                    slider.min = low
                    slider.max = high  # the slider moves its value into the new range itself

            # The limited sliders follow the others; they need not watch themselves.
            limited = set(limits(**widget.kwargs))
            apply_limits()
            for name, control in by_name.items():
                if name not in limited:
                    control.observe(apply_limits, names="value")
        display(widget)
        return widget
    plot(**static)
    return None


def kernel_editor(apply, initial, *, presets=None, environ=None):
    """A 3 x 3 (or any size) kernel editor whose figure redraws after each edit.

    Introduced in ``02_sobel_laplace``. With a front end attached, it shows one number box per
    kernel entry, a menu of preset kernels and the figure that ``apply`` draws; every change
    redraws the figure. Without a front end it calls ``apply(initial)`` once (static figure).

    Parameters
    ----------
    apply : callable
        ``apply(kernel)`` draws one figure for a float array of the kernel's shape (and calls
        ``plt.show()``).
    initial : array_like, shape (kh, kw)
        The kernel shown first, and the one drawn for the static figure.
    presets : dict of str to array_like, optional
        Named kernels of the same shape offered in a menu.
    environ : mapping, optional
        Passed to :func:`frontend_attached`.

    Returns
    -------
    ipywidgets.VBox or None
        The editor when one is shown, None for the static figure.
    """
    import numpy as np

    initial = np.asarray(initial, dtype=float)
    if initial.ndim != 2 or 0 in initial.shape:
        raise ValueError(f"the kernel must be a non-empty 2-D array, got shape {initial.shape}")
    presets = {name: np.asarray(k, dtype=float) for name, k in (presets or {}).items()}
    for name, kernel in presets.items():
        if kernel.shape != initial.shape:
            raise ValueError(f"preset {name!r} has shape {kernel.shape}, the editor has {initial.shape}")
    if not frontend_attached(environ):
        apply(initial.copy())
        return None

    import ipywidgets
    from IPython.display import display

    rows, cols = initial.shape
    # Wide enough for 0.1111 (box blur) and a typed -0.889.
    boxes = [ipywidgets.FloatText(value=float(v), step=0.5, layout=ipywidgets.Layout(width="90px"))
             for v in initial.ravel()]
    grid = ipywidgets.GridBox(boxes, layout=ipywidgets.Layout(grid_template_columns=f"repeat({cols}, 95px)"))
    output = ipywidgets.Output()
    state = {"loading": False}

    def current():
        return np.array([box.value for box in boxes], dtype=float).reshape(rows, cols)

    def matching_preset():
        """The menu names the kernel in the boxes: a preset's name, or "(custom)"."""
        kernel = current()
        return next((name for name, k in presets.items() if np.array_equal(k, kernel)), "(custom)")

    menu = ipywidgets.Dropdown(options=["(custom)"] + list(presets), value=matching_preset(), description="preset")

    def redraw(_change=None):
        if state["loading"]:
            return
        state["loading"] = True  # naming the kernel in the menu must not load it again
        menu.value = matching_preset()
        state["loading"] = False
        output.clear_output(wait=True)
        with output:
            apply(current())

    def load_preset(change):
        if change["new"] in presets and not state["loading"]:
            state["loading"] = True  # one redraw for the whole kernel, not one per box
            for box, value in zip(boxes, presets[change["new"]].ravel()):
                box.value = float(value)
            state["loading"] = False
            redraw()

    for box in boxes:
        box.observe(redraw, names="value")
    menu.observe(load_preset, names="value")
    editor = ipywidgets.VBox([ipywidgets.HBox([grid, menu]), output])
    display(editor)
    redraw()
    return editor
