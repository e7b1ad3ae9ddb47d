"""The controller of the explorer: apply a change to a model, redraw its view, report errors as a message.

Shared by both front ends (:mod:`toyregimes.explore.widgets`): a UI callback calls
:meth:`Controller.apply` and never sees an exception.

Example::

    ctl = Controller(ExplorerModel(), SphereView(new_figure()))
    ctl.apply(k=3.0)        # True; ctl.apply(k=-1) is False and ctl.message says why
"""

from __future__ import annotations

__all__ = ["Controller", "BUSY"]

BUSY = "computing…"  # the status line while a change is simulated and drawn


class Controller:
    """Apply a change to a model, redraw its view, report errors as a message (never raise).

    ``render`` is called after every successful redraw (the Jupyter front end turns the figure into a
    PNG there); ``notify(text, error)`` shows the status line of the front end: ``BUSY`` when a change
    starts (a run can take a noticeable fraction of a second), then ``"ok"`` or the error.
    """

    def __init__(self, model, view, render=None, notify=None):
        self.model, self.view = model, view
        self.render = render or (lambda: None)
        self.notify = notify or (lambda text, error: None)
        self.message = ""
        self.error = False
        self.busy = False  # True while apply() runs (the front ends show BUSY meanwhile)
        self.data = None

    def apply(self, **changes) -> bool:
        """Set ``changes`` on the model, recompute and redraw; returns False (and shows why) on bad input."""
        self.busy = True
        self.notify(BUSY, False)
        try:
            self.model.set(**changes)
            self.data = self.model.compute()
            self.view.update(self.data)
            # clear an earlier error before rendering: the image must not keep a stale red message
            self.view.show_message("", error=False)
            self.render()
        except ValueError as exc:
            return self._fail(" ".join(str(exc).split()))
        except Exception as exc:  # a UI callback must never raise: show what went wrong instead
            return self._fail(f"unexpected {type(exc).__name__}: {exc}")
        finally:
            self.busy = False
        self.message, self.error = "ok", False
        self.notify("ok", False)
        return True

    def _fail(self, text: str) -> bool:
        self.message, self.error = text, True
        try:
            self.view.show_message(text, error=True)
            self.render()
        except Exception:  # pragma: no cover - drawing the message itself failed; the status line remains
            pass
        self.notify(text, True)
        return False
