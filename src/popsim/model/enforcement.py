"""The county enforcement office: inspections, tips, registration follow-ups, audits, sanctions.

One :class:`EnforcementOffice` (a ``mesa.Agent``) per county holds the case ledger and the queue
of signals. Each month (:meth:`EnforcementOffice.act`) it

1. **inspects** registered providers: ``inspections_per_month`` x the campaign multiplier in
   campaign months (default May-October, the yearly special actions) x the accountability
   effort multiplier (:mod:`popsim.model.accountability`); targets drawn at random or weighted
   by risk (ultrasound, private, past cases); out-of-county providers enter the pool through
   joint actions, weighted by ``cross_region_cooperation``; an offending provider is found with
   probability ``detection x (1 - hiding)`` per inspection (:mod:`popsim.model.clinics`);
2. **takes tips**: each illegal act draws a tip with probability
   ``tip_rate_max x R / (R + tip_reward_half) x (1 - hiding)`` for reward ``R``; a tip is
   investigated and leads to a case with probability ``tip_followup``; the reward is paid per
   case;
3. **follows up disappeared registered pregnancies**, oldest first, up to ``followup_capacity``
   x effort a month. A signal is an unapproved late termination of a registered pregnancy, or
   one of the registered pregnancies that leave the register for other reasons
   (``registration.other_disappearance``: moving away, a late miscarriage), which the office
   cannot tell apart; a follow-up of a terminated pregnancy traces its provider with
   probability ``trace`` (one county report: 21 followed up, 3 found involved);
4. **audits births** of a son after two daughters (one of the "seven must-checks"), tracing the
   provider with probability ``audit_trace``;
5. pursues cases against out-of-county providers only with probability
   ``cross_region_cooperation``; fines, blacklists (closes) or prosecutes detected providers,
   **publicises** each case (the providers' beliefs, :meth:`popsim.model.clinics.Market.end_month`;
   households' perceived risk) and **grey-lists** the women found involved (every later
   pregnancy registered).

Where no law forbids sex determination (``enforcement.ban`` false) a provider offering it does
nothing illegal: inspections, tips and audits find no case.

A run of ``run.scale = k`` simulates a 1/k sample of the county: the office's inspections and
follow-up capacity are divided by ``k``, and the cases it reports as news to households
(:meth:`EnforcementOffice.recent_cases`) are the sample's times ``k``; in a region of several
counties each county's households hear of their county's share of the cases.

It returns what it did as an :class:`OfficeMonth`; the model grey-lists the women and records
the counts (the field names are the recorded variables').
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from ..scenario.year import YearValues
from .clinics import KINDS, OUTSIDE, PRIVATE, Market
from .coords import CASE_SOURCES
from .households import Births

__all__ = ["EnforcementOffice", "OfficeMonth"]

_INSPECTION, _TIP, _REGISTRATION, _AUDIT = (CASE_SOURCES.index(s) for s in
                                            ("inspection", "tip", "registration", "audit"))


@dataclass(frozen=True)
class OfficeMonth:
    """What the office did in one month. Fields named as a recorded variable are recorded
    under that name (:meth:`popsim.model.recording.Recorder.add_fields`)."""

    inspections: int
    #: tips investigated, follow-ups and audits
    investigations: int
    #: women investigated by follow-ups and audits
    women_investigated: int
    #: cases pursued, by :data:`~popsim.model.coords.CASE_SOURCES`
    cases: np.ndarray
    fines: float
    rewards_paid: float
    grey_listed_new: int
    enforcement_cost: float
    #: registered pregnancies ended by an unapproved late termination this month (signals; the
    #: office also receives the other disappearances and cannot tell them apart)
    disappeared_pregnancies: int
    #: disappeared pregnancies followed up this month
    followups: int
    #: cases pursued against providers outside the county (of ``cases``)
    cases_outside: int
    #: the provider row of each case pursued (the news the providers hear)
    case_providers: np.ndarray
    #: the women to grey-list now (none of them already is)
    newly_grey: np.ndarray


_NONE = np.zeros(0, dtype=np.int64)


def _draw(x: float, rng: np.random.Generator) -> int:
    """A whole number with expectation ``x``: its whole part, plus one with the chance of the
    fraction."""
    return int(x) + int(rng.random() < x - int(x))


class EnforcementOffice(mesa.Agent):
    """The county office of the population and family-planning commission.

    ``market`` holds the providers it inspects and sanctions (and the run's ``scale``);
    ``rng`` is the office's stream (``enforcement``).
    """

    def __init__(self, model: mesa.Model, market: Market, rng: np.random.Generator):
        super().__init__(model)
        self.market = market
        self.scale = market.scale
        self._rng = rng
        self._signals = np.zeros((0, 3), dtype=np.int64)  # woman, provider, month (-1: none)
        #: cases pursued in each month so far (by the simulated office)
        self.cases_by_month: list[int] = []
        self._new_signals = 0
        # the case ledger, one row per case: month, source index, provider row, pursued
        self.ledger = np.zeros((0, 4), dtype=np.int64)
        # the inspection pool's part that changes only with the year's values or new rows:
        # (enforcement values, rows, in a register or outside, weight of kind and place)
        self._row_weights: tuple = (None, 0, None, None)

    def recent_cases(self, months: int) -> float:
        """Cases pursued in one county in the last ``months`` months (the news households
        remember): the sample's cases times ``run.scale`` (the real region's), times the share
        of them that is one county's news (:attr:`Market.news_share`: 1 for a county)."""
        return self.market.news_share * self.scale * sum(self.cases_by_month[-months:])

    def add_signals(self, women: np.ndarray, providers: np.ndarray, t: int) -> None:
        """Disappeared registered pregnancies: late terminations without approval."""
        rows = np.column_stack([women, providers, np.full(women.size, t)])
        self._signals = np.concatenate([self._signals, rows])
        self._new_signals += women.size

    def _pool(self, n_insp: int, e) -> tuple[int, np.ndarray, np.ndarray]:
        """The providers an inspection may target, their weights, and the inspections (at most
        one per provider)."""
        c = self.market.col
        if self._row_weights[:2] != (e, self.market.n):
            # Joint actions with neighbouring jurisdictions put out-of-county providers in the
            # pool, each weighted by the cooperation level; underground providers are not in any
            # register. What a provider's kind and place weigh changes once a year (or with new
            # rows); only its being open and its cases change within the year.
            outside = c["township"] == OUTSIDE
            w = np.where(outside, e.cross_region_cooperation, 1.0)
            if e.targeting == "risk":
                w = w * (1.0 + e.target_weight_ultrasound * c["has_us"]
                         + e.target_weight_private * (c["kind"] == PRIVATE))
            self._row_weights = (e, self.market.n, c["registered_unit"] | outside, w)
        registered, w = self._row_weights[2:]
        pool = np.flatnonzero(c["open"] & registered)
        w = w[pool] * (1.0 + c["cases"][pool]) if e.targeting == "risk" else w[pool]
        pool, w = pool[w > 0], w[w > 0]
        return min(n_insp, pool.size), pool, w

    def act(self, t: int, p: YearValues, campaign: bool, effort: float,
            client_women: np.ndarray, client_providers: np.ndarray, births: Births,
            registered_births: int, grey_listed: np.ndarray) -> OfficeMonth:
        """One month of enforcement in month ``t`` with this year's values ``p``.

        ``effort``: the accountability multiplier of inspections and follow-ups;
        ``client_women`` and ``client_providers``: this month's buyers of illegal sex
        determinations and their providers; ``births``: this month's births, of which
        ``registered_births`` were registered pregnancies (the base of the other
        disappearances); ``grey_listed``: every woman's grey-list flag (read only)."""
        e, c, rng = p.enforcement, self.market.col, self._rng
        signals, self._new_signals = self._new_signals, 0
        # pregnancies that left the register for other reasons look the same to the office
        n_other = int(rng.binomial(registered_births, p.registration.other_disappearance)) \
            if registered_births else 0
        if n_other:
            other = np.column_stack([np.full((n_other, 2), -1), np.full(n_other, t)])
            self._signals = np.concatenate([self._signals, other])
        investigations = women_investigated = 0
        found: list[tuple[int, int]] = []  # (source, provider row)
        grey: list[np.ndarray] = []

        # 1. inspections (a sample's share of the county's)
        x = (e.inspections_per_month * (e.campaign_multiplier if campaign else 1.0) * effort
             / self.scale)
        n_insp = _draw(x, rng)
        if n_insp:  # (only then is the pool needed; building it draws nothing)
            n_insp, pool, w = self._pool(n_insp, e)
        if n_insp:
            targets = rng.choice(pool, n_insp, replace=False, p=w / w.sum())
            c["inspected"][targets] = True
            caught = rng.random(n_insp) < e.detection * (1 - c["hiding"][targets])
            hit = targets[c["offering"][targets] & caught & e.ban]
            found += [(_INSPECTION, int(r)) for r in hit]

        # 2. tips, per illegal act
        # (the blocks below skip their numpy calls when they have nothing to act on: a draw
        # of no numbers does not move the generator, so the run is the same)
        acts = c["acts"]
        offenders = np.flatnonzero(acts > 0) if e.ban else _NONE
        if offenders.size:
            p_tip = (e.tip_rate_max * e.tip_reward / (e.tip_reward + e.tip_reward_half)
                     * (1 - c["hiding"][offenders]))
            tipped = offenders[rng.random(offenders.size) < -np.expm1(acts[offenders]
                                                                      * np.log1p(-p_tip))]
            investigations += tipped.size
            good = tipped[rng.random(tipped.size) < e.tip_followup]
            found += [(_TIP, int(r)) for r in good]

        # 3. follow-up of disappeared registered pregnancies (a sample's share of the capacity)
        sig = self._signals
        if sig.size:
            sig = sig[sig[:, 2] > t - e.signal_max_age]
        n_follow = min(_draw(e.followup_capacity * effort / self.scale, rng), len(sig))
        if n_follow:
            done, self._signals = sig[:n_follow], sig[n_follow:]
            investigations += n_follow
            women_investigated += n_follow
            traced = done[(rng.random(n_follow) < e.trace) & (done[:, 1] >= 0)]
            found += [(_REGISTRATION, int(r)) for r in traced[:, 1]]
            grey.append(traced[:, 0])
        else:
            self._signals = sig

        # 4. birth audits: a son after two daughters
        if e.birth_audit and e.ban and births.idx.size:
            a = births.male & (births.sons_before == 0) & (births.daughters_before >= 2)
            audited = np.flatnonzero(a)
            investigations += audited.size
            women_investigated += audited.size
            prov = births.provider[audited]
            hit = (prov >= 0) & (rng.random(audited.size) < e.audit_trace)
            found += [(_AUDIT, int(r)) for r in prov[hit]]
            grey.append(births.idx[audited[hit]])

        # 5. pursue, sanction, publicise, grey-list
        rows = _NONE
        cases = np.zeros(len(CASE_SOURCES))
        rewards = fines = 0.0
        if found:
            srcs, rows = np.array(found, dtype=np.int64).T
            # a case against an out-of-county provider is pursued only with the other side's
            # help; one found by a joint inspection already has it
            outside = c["township"][rows] == OUTSIDE
            pursued = (~outside | (srcs == _INSPECTION)
                       | (rng.random(rows.size) < e.cross_region_cooperation))
            self.ledger = np.concatenate([self.ledger, np.column_stack(
                [np.full(rows.size, t), srcs, rows, pursued]).astype(np.int64)])
            rows, srcs = rows[pursued], srcs[pursued]
            cases = np.bincount(srcs, minlength=len(CASE_SOURCES)).astype(float)
            rewards = e.tip_reward * float((srcs == _TIP).sum())
            fines = self.market.sanction(rows, e, p.market, rng)
            # the buyers from a provider caught by an inspection or a tip are found with it
            caught = rows[(srcs == _INSPECTION) | (srcs == _TIP)]
            if caught.size:
                is_caught = np.zeros(self.market.n, dtype=bool)
                is_caught[caught] = True
                grey.append(client_women[is_caught[client_providers]])
        grey = [g for g in grey if g.size]
        newly = _NONE
        if grey:
            newly = np.unique(np.concatenate(grey))
            newly = newly[~grey_listed[newly]]
        self.cases_by_month.append(int(rows.size))
        cost = (n_insp * e.cost_per_inspection + investigations * e.cost_per_investigation
                + rewards)
        return OfficeMonth(inspections=n_insp, investigations=investigations,
                           women_investigated=women_investigated, cases=cases, fines=fines,
                           rewards_paid=rewards, grey_listed_new=int(newly.size),
                           enforcement_cost=cost, disappeared_pregnancies=signals,
                           followups=n_follow,
                           cases_outside=int((c["township"][rows] == OUTSIDE).sum())
                           if rows.size else 0,
                           case_providers=rows, newly_grey=newly)

    @property
    def case_ledger(self) -> dict[str, np.ndarray]:
        """Every case found: month index, source, provider kind, whether pursued."""
        L = self.ledger
        kinds = self.market.col["kind"][L[:, 2]] if len(L) else np.zeros(0, np.int8)
        return {"month": L[:, 0], "source": np.array(CASE_SOURCES)[L[:, 1]],
                "provider": L[:, 2], "provider_kind": np.array(KINDS)[kinds],
                "pursued": L[:, 3].astype(bool)}
