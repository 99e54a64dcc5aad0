"""The county enforcement office: inspections, tips, registration follow-ups, audits, sanctions.

One :class:`EnforcementOffice` (a ``mesa.Agent``) per county holds the enforcement levers and the
case ledger (DESIGN §3.8). Each month it

1. **inspects** registered providers: ``inspections_per_month`` x the campaign multiplier in
   campaign months (default May-October, the yearly special actions) x the accountability
   multiplier; targets drawn at random or weighted by risk (ultrasound, private, past cases);
   out-of-county providers enter the pool through joint actions, weighted by
   ``cross_region_cooperation``; an offending provider is found with probability ``detection``
   per inspection;
2. **takes tips**: each illegal act draws a tip with probability
   ``tip_rate_max x R / (R + tip_reward_half)`` for reward ``R``; a tip is investigated and leads
   to a case with probability ``tip_followup``; the reward is paid per case;
3. **follows up disappeared registered pregnancies** (an unapproved late termination of a
   registered pregnancy), oldest first, up to ``followup_capacity`` a month; each traces the
   provider with probability ``trace`` (one county report: 21 followed up, 3 suspected cases);
4. **audits births** of a son after two daughters (one of the "seven must-checks"), tracing the
   provider with probability ``audit_trace``;
5. pursues cases against out-of-county providers only with probability
   ``cross_region_cooperation``; fines, blacklists (closes) or prosecutes detected providers,
   **publicises** each case (raising every county provider's and aware household's perceived
   risk) and **grey-lists** the women found involved (every later pregnancy registered).

Accountability (yearly): next year's effort is multiplied by ``1 + accountability x (reported
SRB - target)`` when last year's reported SRB was above target.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from .clinics import KINDS, OUTSIDE, PRIVATE

if TYPE_CHECKING:
    from .model import PopSimModel

__all__ = ["EnforcementOffice", "CASE_SOURCES"]

CASE_SOURCES = ("inspection", "tip", "registration", "audit")
#: Signals older than this are dropped unfollowed (the trail is cold).
SIGNAL_MAX_AGE = 12


class EnforcementOffice(mesa.Agent):
    """The county office of the population and family-planning commission."""

    def __init__(self, model: PopSimModel):
        super().__init__(model)
        self.effort_multiplier = 1.0
        self._signals = np.zeros((0, 3), dtype=np.int64)  # woman, provider, month
        self._cases_by_month: list[int] = []
        self._new_signals = 0
        # the case ledger, one row per case: month, source index, provider row, pursued
        self.ledger = np.zeros((0, 4), dtype=np.int64)
        self.month = self._zero_counts()

    @staticmethod
    def _zero_counts() -> dict[str, float | np.ndarray]:
        return {"inspections": 0, "investigations": 0, "women_investigated": 0,
                "cases": np.zeros(len(CASE_SOURCES)), "fines": 0.0, "rewards": 0.0,
                "closed": 0, "grey_listed": 0, "cost": 0.0, "signals": 0, "cases_outside": 0}

    def county_risk(self, campaign: bool) -> float:
        """Perceived chance of being caught, for a household aware of the law."""
        b = self.model.p.behaviour
        recent = sum(self._cases_by_month[-12:])
        return min(1.0, b.risk_per_case * recent + (b.campaign_risk if campaign else 0.0))

    def add_signals(self, women: np.ndarray, providers: np.ndarray, t: int) -> None:
        """Disappeared registered pregnancies: late terminations without approval."""
        rows = np.column_stack([women, providers, np.full(women.size, t)])
        self._signals = np.concatenate([self._signals, rows])
        self._new_signals += women.size

    def yearly(self, reported_srb: float) -> None:
        e = self.model.p.enforcement
        over = max(0.0, reported_srb - e.srb_target) if np.isfinite(reported_srb) else 0.0
        self.effort_multiplier = 1.0 + e.accountability * over

    def act(self, t: int, campaign: bool, clients: tuple[np.ndarray, np.ndarray],
            births: dict[str, np.ndarray]) -> dict:
        """One month of enforcement. ``clients``: this month's (women, provider rows) of illegal
        services; ``births``: this month's births (see ``Households.give_birth``)."""
        model, p = self.model, self.model.p
        e, market = p.enforcement, model.market
        c = market.col
        rng = model.streams.generator("enforcement")
        self.month = cnt = self._zero_counts()
        cnt["signals"], self._new_signals = self._new_signals, 0
        found: list[tuple[int, int]] = []  # (source, provider row)
        grey: list[np.ndarray] = []

        # 1. inspections
        x = e.inspections_per_month * (e.campaign_multiplier if campaign else 1.0) \
            * self.effort_multiplier
        n_insp = int(x) + int(rng.random() < x - int(x))
        # Joint actions with neighbouring jurisdictions put out-of-county providers in the pool,
        # each weighted by the cooperation level; underground providers are not in any register.
        pool = np.flatnonzero(c["open"] & (c["registered_unit"] | (c["township"] == OUTSIDE)))
        outside = c["township"][pool] == OUTSIDE
        w = np.where(outside, e.cross_region_cooperation, 1.0)
        if e.targeting == "risk":
            w = w * (1.0 + 2.0 * c["has_us"][pool] + 2.0 * (c["kind"][pool] == PRIVATE)) \
                * (1.0 + c["cases"][pool])
        pool, w = pool[w > 0], w[w > 0]
        n_insp = min(n_insp, pool.size)
        if n_insp:
            targets = rng.choice(pool, n_insp, replace=False, p=w / w.sum())
            c["inspected"][targets] = True
            hit = targets[c["offering"][targets] & (rng.random(n_insp) < e.detection)]
            found += [(0, int(r)) for r in hit]
            cnt["inspections"] = n_insp

        # 2. tips, per illegal act
        acts = c["acts"]
        offenders = np.flatnonzero(acts > 0)
        p_tip = e.tip_rate_max * e.tip_reward / (e.tip_reward + e.tip_reward_half)
        tipped = offenders[rng.random(offenders.size) < -np.expm1(acts[offenders]
                                                                  * np.log1p(-p_tip))]
        cnt["investigations"] += tipped.size
        good = tipped[rng.random(tipped.size) < e.tip_followup]
        found += [(1, int(r)) for r in good]

        # 3. follow-up of disappeared registered pregnancies
        sig = self._signals[self._signals[:, 2] > t - SIGNAL_MAX_AGE]
        cap = e.followup_capacity
        n_follow = min(int(cap) + int(rng.random() < cap - int(cap)), len(sig))
        done, self._signals = sig[:n_follow], sig[n_follow:]
        cnt["investigations"] += n_follow
        cnt["women_investigated"] += n_follow
        traced = done[rng.random(n_follow) < e.trace]
        found += [(2, int(r)) for r in traced[:, 1]]
        grey.append(traced[:, 0])

        # 4. birth audits: a son after two daughters
        if e.birth_audit and births["idx"].size:
            a = (births["male"] & (births["sons_before"] == 0)
                 & (births["daughters_before"] >= 2))
            audited = np.flatnonzero(a)
            cnt["investigations"] += audited.size
            cnt["women_investigated"] += audited.size
            prov = births["provider"][audited]
            hit = (prov >= 0) & (rng.random(audited.size) < e.audit_trace)
            found += [(3, int(r)) for r in prov[hit]]
            grey.append(births["idx"][audited[hit]])

        # 5. pursue, sanction, publicise, grey-list
        rows = np.array([r for _, r in found], dtype=np.int64)
        srcs = np.array([s for s, _ in found], dtype=np.int64)
        # a case against an out-of-county provider is pursued only with the other side's help;
        # one found by a joint inspection already has it
        outside = c["township"][rows] == OUTSIDE
        pursued = ~outside | (srcs == 0) | (rng.random(rows.size) < e.cross_region_cooperation)
        self.ledger = np.concatenate([self.ledger, np.column_stack(
            [np.full(rows.size, t), srcs, rows, pursued]).astype(np.int64)])
        rows, srcs = rows[pursued], srcs[pursued]
        cnt["cases"] = np.bincount(srcs, minlength=len(CASE_SOURCES)).astype(float)
        cnt["cases_outside"] = int((c["township"][rows] == OUTSIDE).sum())
        cnt["rewards"] = e.tip_reward * float((srcs == 1).sum())
        cnt["fines"], cnt["closed"] = market.sanction(rows, p, rng)
        women, prov = clients
        caught_clients = women[np.isin(prov, rows[np.isin(srcs, (0, 1))])]
        grey.append(caught_clients)
        newly = np.unique(np.concatenate(grey)) if grey else np.zeros(0, np.int64)
        newly = newly[~model.households.grey[newly]]
        model.households.grey[newly] = True
        cnt["grey_listed"] = newly.size
        self._cases_by_month = self._cases_by_month[-11:] + [int(rows.size)]
        cnt["cost"] = (n_insp * e.cost_per_inspection + cnt["investigations"]
                       * e.cost_per_investigation + cnt["rewards"])
        return cnt

    @property
    def case_ledger(self) -> dict[str, np.ndarray]:
        """Every case found: month index, source, provider kind, whether pursued."""
        L = self.ledger
        kinds = self.model.market.col["kind"][L[:, 2]] if len(L) else np.zeros(0, np.int8)
        return {"month": L[:, 0], "source": np.array(CASE_SOURCES)[L[:, 1]],
                "provider": L[:, 2], "provider_kind": np.array(KINDS)[kinds],
                "pursued": L[:, 3].astype(bool)}
