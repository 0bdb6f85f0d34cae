"""Presenter mode, for the main window.

The steps are ``core.walkthrough``'s; the panel is ``presenter``'s.  A mixin of
:class:`~privacy_inspector.gui.mainwindow.MainWindow`: ``self`` is the window.
"""

from __future__ import annotations

import logging

from privacy_inspector.core import walkthrough

log = logging.getLogger(__name__)


class PresenterMixin:
    """View > Presenter mode."""

    @property
    def presenting(self) -> bool:
        return self._presenting is not None

    def set_presenting(self, on: bool) -> None:
        """Presenter mode: large type, high contrast, values always hidden, unrelated
        sites hidden, one site in focus (the policy owner's by default), and the
        walk-through panel in place of the detail pane."""
        if on == self.presenting:
            return
        if self.presenter_action.isChecked() != on:
            self.presenter_action.setChecked(on)  # toggles back into here, which returns
        if on:
            owner_sites = self.context.classifier.policy.owner.sites
            self._presenting = {"zoom": self._zoom, "palette": self.palette(),
                                "focus": owner_sites[0] if owner_sites else ""}
            self._set_zoom(max(self._zoom, self._zoom_index(1.5)))
            from privacy_inspector.gui.theme import high_contrast_palette

            self.setPalette(high_contrast_palette())
            self.side.hide()
            self.detail.hide()
            self.detail.presenting = True
            self.detail.show_entry(self.detail.entry)  # masks a value shown before
            self.reveal_action.setEnabled(False)
            self.presenter.show()
            width = max(self.inner.width(), 900)
            self._presenting["splitter"] = self.inner.saveState()
            self.inner.setSizes([width * 11 // 20, 0, width * 9 // 20])
            self._present_site(self._presenting["focus"])
            self.status.setText(self.tr("Presenter mode: values stay hidden. F5 leaves it; "
                                        "Page Up and Page Down walk through the steps."))
        else:
            saved = self._presenting or {}
            self._presenting = None
            self.setPalette(saved.get("palette", self.palette()))
            self._set_zoom(saved.get("zoom", self._zoom_index(1.0)))
            self.presenter.hide()
            self.side.show()
            self.detail.presenting = False
            self.detail.show()
            if "splitter" in saved:
                self.inner.restoreState(saved["splitter"])
            self.reveal_action.setEnabled(True)
            self.filters.set_extra(ids=None, hide_unrelated=False)

    def _present_site(self, focus: str) -> None:
        if self._presenting is None:
            return
        self._presenting["focus"] = focus
        entries = self._last.entries if self._last else []
        classifier = self.context.classifier
        # Unrelated sites stay hidden, unless the one in focus is such a site.
        self.filters.set_extra(hide_unrelated=classifier.policy.is_owner_site(focus))
        owner_sites = list(classifier.policy.owner.sites)
        current = [e for e in entries if e.site and not e.stale]
        in_context = sorted({e.site for e in current if e.party != "unrelated"} - set(owner_sites))
        unrelated = sorted({e.site for e in current} - set(owner_sites) - set(in_context))
        self.presenter.set_sites(owner_sites + in_context, unrelated, focus)
        self.presenter.set_steps(walkthrough.steps(entries, classifier, focus), classifier.policy)
