"""What the hub's statistics count. For a node N, "the subtree" is N and every node below it; the figures of N
always cover its whole subtree. The hub-wide figures treat the whole directory as one subtree.

**Period.** `from` and `to` are dates in the hub's timezone (setting `hub_timezone`, WIB by default), both
included: the period runs from local midnight of `from` to local midnight after `to`. Either may be left out.

**received (the cohort).** The cases that entered the subtree during the period. A case enters a subtree when it is
first dispositioned to one of its nodes (the reporter's choice, a rule, a coordinator, a forward or a delegation).
A case counts once per subtree, at that first entry, however often it is later delegated or forwarded inside the
subtree or leaves and comes back; so the periods of a node add up to its total. A case forwarded from one instansi
to another counts for both. Every other figure is about this cohort, whenever its events happened.

**followed_up.** Cases of the cohort in which a subtree node posted a follow-up (progress or final) while holding it.

**completed.** Cases of the cohort that are now completed or archived, held by a subtree node.

**overdue.** Cases of the cohort with a node clock (first response or resolution) of a subtree node that is running
(neither stopped nor paused) and past its deadline at the time of the request.

**median_first_response_working_days.** The median, over the stays (assignments) of cohort cases with subtree nodes
that got a response, of the time from the disposition to the node's first acknowledgement or follow-up, in working
days of the node's timezone (weekends and holidays do not count). A stay that ended without a response (delegated,
forwarded, withdrawn) or still awaits one is left out. `median_first_response_hours` is the same in clock hours.

**sla_met, sla_breached, sla_compliance.** Over the node clocks (first response and resolution) of cohort cases that
belong to subtree nodes: a first-response clock belongs to the node it was started for; the resolution clock follows
the case and belongs to the node that held it last. Met: stopped in time. Breached: stopped late, breached while
running, or running past its deadline now. Not counted: running clocks within their deadline, and clocks stopped in
time because the case was rejected or withdrawn (nobody met them). sla_compliance = met / (met + breached), null when
no clock is decided. The hub's verification clock and the reporter-response clock do not count.

**rated, mean_rating.** Cases of the cohort that the reporter rated (1 to 5) while a subtree node held them, and the
mean of those ratings (null when none).

Confidential cases are counted like any other; the statistics never show a case. A whistleblowing (WBS) case is
not counted for a node in the line of the node it accuses (that node, a node above it or a node below it, the
integrity node holding it included): it counts in the whole hub's figures and under the other nodes only.
"""

DEFINITIONS: str = __doc__ or ""
