"""Block and the cookie-rules page, for the main window.

Plans and the app's record of its rules are ``actions.block``'s; the dialogs are
``blockdialog``'s.  A mixin of
:class:`~privacy_inspector.gui.mainwindow.MainWindow`: ``self`` is the window.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from PySide6.QtWidgets import QDialog, QMessageBox

from privacy_inspector.actions import block as blocking
from privacy_inspector.core.records import Entry, Profile
from privacy_inspector.gui.blockdialog import RULE_WORDS, BlockDialog, RulesDialog, Target
from privacy_inspector.gui.deletedialog import ASK_CLOSE, WAIT
from privacy_inspector.gui.workers import TaskControl, run_task

log = logging.getLogger(__name__)


class BlockingMixin:
    """Block, and the cookie-rules page."""

    def _rule_text(self, entry: Entry) -> str | None:
        rule = self.entries.rule_of(entry)
        if rule is None:
            return None
        mine = any(r.source == "app" and r.rule == rule and str(r.profile.path) == entry.profile
                   for r in (self._last.rules if self._last else []))
        who = self.tr("written by this app") if mine else self.tr("made in the browser")
        return self.tr("{0} in {1} for {2} and its subdomains ({3}).").format(
            RULE_WORDS.get(rule.mode, rule.mode).capitalize(), entry.browser, rule.domain, who)

    def _block_targets(self, entry: Entry) -> list[Target]:
        known = blocking.sign_in_sites(self.context.data_dir,
                                       self._last.entries if self._last else ())
        targets = []
        if entry.site:
            try:
                site = blocking.check_domain(entry.site)
            except blocking.BlockError:
                site = None
            if site:
                targets.append(Target(self.tr("the site {0}").format(site), (site,),
                                      tuple(blocking.sign_in_domains([site], known))))
        if entry.organization:
            try:
                domains, left_out = blocking.domains_of_organization(entry.organization)
            except blocking.BlockError:
                domains, left_out = [], []
            if domains:
                targets.append(Target(
                    self.tr("the organisation {0} ({1} domains)").format(entry.organization,
                                                                         len(domains)),
                    tuple(domains),
                    tuple(blocking.sign_in_domains(domains, known)),
                    tuple(left_out)))
        return targets

    def block_selected(self, entry: Entry | None = None) -> None:
        """Block the selected entry's site or organisation (``entry`` when the
        dialog comes back after waiting for a browser to close)."""
        entry = entry or self.detail.entry
        if entry is None or self._last is None:
            return
        targets = self._block_targets(entry)
        if not targets:
            QMessageBox.information(self, self.tr("Block"), self.tr(
                "{0} has no domain a cookie rule can name.").format(entry.host))
            return
        profiles = [p for p in self._last.profiles if blocking.supports(p)]
        data_dir, running = self.context.data_dir, self.context.is_running

        def planner(domains: Any, mode: str) -> blocking.RulePlan:
            return blocking.plan_block(profiles, list(domains), mode, data_dir, running=running)

        try:
            dialog = BlockDialog(targets, planner, self, can_ask=sys.platform != "win32")
        except blocking.BlockError as exc:
            QMessageBox.warning(self, self.tr("Block"), str(exc))
            return
        result = self.context.confirm(dialog)
        plan = dialog.plan
        if result in (WAIT, ASK_CLOSE) and plan is not None:
            refused = {r.profile for r in plan.refused}
            waiting = [p for p in profiles if str(p.path) in refused]
            if result == ASK_CLOSE:
                for profile in waiting:
                    if not self.context.request_close(profile):
                        log.info("could not ask %s to close", profile.browser)
            self._wait_for_close(waiting, lambda: self.block_selected(entry))
            return
        if result != QDialog.DialogCode.Accepted or plan is None or not plan.changes:
            return
        self._apply_rules(plan)

    def _apply_rules(self, plan: blocking.RulePlan) -> None:
        data_dir, running = self.context.data_dir, self.context.is_running

        def work(control: TaskControl) -> blocking.Outcome:
            return blocking.apply(plan, data_dir, running=running)

        run_task("block", work, self._rules_written, self._rules_failed, pool=self.context.pool)

    def _rules_written(self, outcome: blocking.Outcome) -> None:
        if outcome.refused:
            QMessageBox.warning(self, self.tr("Nothing was written"),
                                "\n".join(r.reason for r in outcome.refused))
            return
        text = self.tr("{0} cookie rules written in the browsers' settings.").format(
            len(outcome.rules))
        if outcome.errors:
            text += " " + self.tr("{0} profiles could not be changed; see Help \u25b8 "
                                  "Diagnostic log.").format(len(outcome.errors))
            for profile, store, message in outcome.errors:
                log.error("rule in %s (%s): %s", profile, store, message)
        log.info("wrote %d cookie rules", len(outcome.rules))
        self._deleted_note = text
        self.rescan()

    def _rules_failed(self, exc: BaseException) -> None:
        log.error("writing cookie rules failed: %s", type(exc).__name__)
        QMessageBox.warning(self, self.tr("Block"), self.tr("Writing the rules failed ({0}).")
                            .format(type(exc).__name__))

    def show_rules(self) -> None:
        profiles = [p for p in self.context.profiles if blocking.supports(p)]
        data_dir, running = self.context.data_dir, self.context.is_running

        def load() -> tuple[list[blocking.RuleRow], list[str]]:
            try:
                rows, errors = blocking.rules_in_force(profiles, data_dir)
            except blocking.BlockError as exc:
                return [], [str(exc)]
            return rows, [f"{p} ({s}): {m}" for p, s, m in errors]

        def unblock(rows: list[blocking.RuleRow]) -> None:
            groups: dict[tuple[str, int | None], tuple[Profile, set[str]]] = {}
            for row in rows:
                key = (str(row.profile.path), blocking.port_of(row.rule))
                groups.setdefault(key, (row.profile, set()))[1].add(row.rule.domain)
            written = 0
            for (_, port), (profile, domains) in groups.items():
                plan = blocking.plan_unblock([profile], sorted(domains), data_dir, port=port,
                                             running=running)
                if plan.refused:
                    QMessageBox.warning(dialog, self.tr("Nothing was changed"),
                                        "\n".join(r.reason for r in plan.refused))
                    continue
                outcome = blocking.apply(plan, data_dir, running=running)
                written += len(outcome.rules)
                for refusal in outcome.refused:
                    QMessageBox.warning(dialog, self.tr("Nothing was changed"), refusal.reason)
                for _, store, message in outcome.errors:
                    log.error("unblock (%s): %s", store, message)
            self._deleted_note = self.tr("{0} cookie rules removed.").format(written)
            self.rescan()

        dialog = RulesDialog(load, unblock, self)
        self.context.confirm(dialog)
