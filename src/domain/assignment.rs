//! Automatic assignment of jurors to applications for one stage: balanced, never conflicted, deterministic.
//!
//! [`plan`] gives each application up to `reviews_per_application` distinct jurors, keeping the assignments
//! that already exist and only filling the gaps, so that running it again after new applications, new jurors
//! or new conflicts changes nothing that was already decided.
//!
//! The algorithm, in two passes over ids sorted first (so the input order never matters):
//!
//! 1. **Greedy.** Applications are taken from the most constrained (fewest non-conflicted jurors) to the
//!    least, then by id. Each missing slot goes to the least-loaded eligible juror (not conflicted, not
//!    already on the application, below `max_per_juror`); ties are broken by a stable hash of
//!    (application, juror), so that the same juror is not always first, then by juror id. Without conflicts,
//!    `max_per_juror` or earlier assignments, juror loads then differ by at most one.
//! 2. **Repair.** When the greedy pass leaves an application short, an augmenting path may still exist: move
//!    a newly planned juror from another application to this one and give that application a juror who still
//!    has room, and so on (the classic maximum-flow step). Paths end at the least-loaded juror with room.
//!    After this pass the number of planned reviews is the largest possible, so an application is short only
//!    when no assignment at all could cover it while keeping the existing ones.

use std::collections::{BTreeSet, HashSet, VecDeque};

use uuid::Uuid;

/// What [`plan`] works from.
#[derive(Debug, Clone, Copy)]
pub struct AssignmentInput<'a> {
    /// The applications to cover, in any order (duplicates are ignored).
    pub applications: &'a [Uuid],
    /// The call's jurors, in any order (duplicates are ignored).
    pub jurors: &'a [Uuid],
    /// `(application, juror)` pairs already assigned for this stage; they are kept. A pair counts towards its
    /// application's reviewers and its juror's load only when the juror is one of `jurors` and the pair is not
    /// in `conflicts` (a conflicted juror's review never counts). Pairs for applications outside
    /// `applications` still count towards their juror's load.
    pub existing: &'a [(Uuid, Uuid)],
    /// `(application, juror)` pairs that must never be assigned.
    pub conflicts: &'a HashSet<(Uuid, Uuid)>,
    /// How many distinct jurors each application should have.
    pub reviews_per_application: usize,
    /// Most applications a juror may have in this stage, existing assignments included; `None` for no limit.
    pub max_per_juror: Option<usize>,
}

/// The outcome of [`plan`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssignmentPlan {
    /// The `(application, juror)` pairs to add, sorted; never an existing or a conflicted pair.
    pub new: Vec<(Uuid, Uuid)>,
    /// Applications left with fewer reviewers than asked, sorted by id, each with the number of reviewers it
    /// has once the plan is applied (counted existing pairs included).
    pub short: Vec<(Uuid, usize)>,
}

/// Plans the assignments that fill the gaps of a stage (see the [module documentation](self) for the rules).
///
/// The result depends only on the sets of ids, pairs and limits given, never on their order.
pub fn plan(input: &AssignmentInput) -> AssignmentPlan {
    let mut state = State::new(input);
    state.greedy();
    state.repair();
    state.into_plan()
}

/// The planning state: indices into the sorted application and juror lists.
struct State<'a> {
    applications: Vec<Uuid>,
    jurors: Vec<Uuid>,
    conflicts: &'a HashSet<(Uuid, Uuid)>,
    wanted: usize,
    capacity: usize,
    /// Per juror: its current load (counted existing pairs plus planned ones).
    load: Vec<usize>,
    /// Per application: its counted reviewers, existing and planned.
    assigned: Vec<BTreeSet<usize>>,
    /// Per application: its planned (movable) reviewers.
    planned: Vec<BTreeSet<usize>>,
    /// Per juror: the applications it is planned (movably) on.
    planned_on: Vec<BTreeSet<usize>>,
    /// Applications in the order they are served: most constrained first, then by id.
    order: Vec<usize>,
}

impl<'a> State<'a> {
    fn new(input: &AssignmentInput<'a>) -> Self {
        let applications = sorted_distinct(input.applications);
        let jurors = sorted_distinct(input.jurors);
        let mut load = vec![0; jurors.len()];
        let mut assigned = vec![BTreeSet::new(); applications.len()];
        let existing: BTreeSet<(Uuid, Uuid)> = input.existing.iter().copied().collect();
        for pair @ (application, juror) in existing {
            if input.conflicts.contains(&pair) {
                continue;
            }
            let Ok(j) = jurors.binary_search(&juror) else {
                continue;
            };
            load[j] += 1;
            if let Ok(a) = applications.binary_search(&application) {
                assigned[a].insert(j);
            }
        }
        let eligible_count = |a: usize| {
            jurors
                .iter()
                .filter(|juror| !input.conflicts.contains(&(applications[a], **juror)))
                .count()
        };
        let mut order: Vec<(usize, usize)> = (0..applications.len())
            .map(|a| (eligible_count(a), a))
            .collect();
        order.sort_unstable();
        State {
            conflicts: input.conflicts,
            wanted: input.reviews_per_application,
            capacity: input.max_per_juror.unwrap_or(usize::MAX),
            load,
            assigned,
            planned: vec![BTreeSet::new(); applications.len()],
            planned_on: vec![BTreeSet::new(); jurors.len()],
            order: order.into_iter().map(|(_, a)| a).collect(),
            applications,
            jurors,
        }
    }

    /// Whether juror `j` may be added to application `a`, capacity aside.
    fn eligible(&self, a: usize, j: usize) -> bool {
        !self.assigned[a].contains(&j)
            && !self
                .conflicts
                .contains(&(self.applications[a], self.jurors[j]))
    }

    fn has_room(&self, j: usize) -> bool {
        self.load[j] < self.capacity
    }

    /// The sort key choosing among candidate jurors for application `a`: least loaded, then the stable hash,
    /// then the id.
    fn preference(&self, a: usize, j: usize) -> (usize, u64, Uuid) {
        (
            self.load[j],
            tie_break(self.applications[a], self.jurors[j]),
            self.jurors[j],
        )
    }

    fn add(&mut self, a: usize, j: usize) {
        self.assigned[a].insert(j);
        self.planned[a].insert(j);
        self.planned_on[j].insert(a);
    }

    fn remove(&mut self, a: usize, j: usize) {
        self.assigned[a].remove(&j);
        self.planned[a].remove(&j);
        self.planned_on[j].remove(&a);
    }

    fn is_short(&self, a: usize) -> bool {
        self.assigned[a].len() < self.wanted
    }

    /// First pass: each missing slot to the least-loaded eligible juror with room.
    fn greedy(&mut self) {
        for index in 0..self.order.len() {
            let a = self.order[index];
            while self.is_short(a) {
                let best = (0..self.jurors.len())
                    .filter(|&j| self.eligible(a, j) && self.has_room(j))
                    .min_by_key(|&j| self.preference(a, j));
                let Some(j) = best else { break };
                self.add(a, j);
                self.load[j] += 1;
            }
        }
    }

    /// Second pass: augmenting paths until no short application can gain a reviewer.
    fn repair(&mut self) {
        loop {
            let mut changed = false;
            for index in 0..self.order.len() {
                let a = self.order[index];
                while self.is_short(a) && self.augment(a) {
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// Looks for an augmenting path from application `start` and applies it; false when there is none.
    ///
    /// Breadth-first over applications: from application `x`, every eligible juror `j` is reachable; if `j`
    /// has room the path can end there, otherwise every application `y` where `j` is planned can give `j` up
    /// to `x` and look for a replacement in turn.
    fn augment(&mut self, start: usize) -> bool {
        let n_jurors = self.jurors.len();
        let mut app_seen = vec![false; self.applications.len()];
        // For a reached application: the juror it gives up to the application it was reached from.
        let mut gives: Vec<Option<usize>> = vec![None; self.applications.len()];
        // For a reached juror: the application that takes it.
        let mut taken_by: Vec<Option<usize>> = vec![None; n_jurors];
        let mut ends = Vec::new();
        let mut queue = VecDeque::from([start]);
        app_seen[start] = true;
        while let Some(x) = queue.pop_front() {
            for (j, taker) in taken_by.iter_mut().enumerate() {
                if taker.is_some() || !self.eligible(x, j) {
                    continue;
                }
                *taker = Some(x);
                if self.has_room(j) {
                    ends.push(j);
                    continue;
                }
                for &y in &self.planned_on[j] {
                    if !app_seen[y] {
                        app_seen[y] = true;
                        gives[y] = Some(j);
                        queue.push_back(y);
                    }
                }
            }
        }
        let best = ends.into_iter().min_by_key(|&j| {
            let taker = taken_by[j].unwrap_or(start);
            self.preference(taker, j)
        });
        let Some(end) = best else {
            return false;
        };
        self.load[end] += 1;
        let mut j = end;
        // Walk back to `start`: `j` joins the application that reached it, which gives up its own juror.
        while let Some(x) = taken_by[j] {
            self.add(x, j);
            if x == start {
                break;
            }
            let Some(given) = gives[x] else { break };
            self.remove(x, given);
            j = given;
        }
        true
    }

    fn into_plan(self) -> AssignmentPlan {
        let mut new = Vec::new();
        let mut short = Vec::new();
        for (a, application) in self.applications.iter().enumerate() {
            new.extend(
                self.planned[a]
                    .iter()
                    .map(|&j| (*application, self.jurors[j])),
            );
            if self.assigned[a].len() < self.wanted {
                short.push((*application, self.assigned[a].len()));
            }
        }
        new.sort_unstable();
        AssignmentPlan { new, short }
    }
}

/// The ids sorted, without duplicates.
fn sorted_distinct(ids: &[Uuid]) -> Vec<Uuid> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// A stable hash of `(application, juror)`, the same on every platform and Rust version: FNV-1a over the
/// 32 bytes followed by the SplitMix64 finaliser, so that nearby ids (UUID v7 share their time prefix) still
/// give unrelated values.
fn tie_break(application: Uuid, juror: Uuid) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in application.as_bytes().iter().chain(juror.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash ^= hash >> 30;
    hash = hash.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash ^= hash >> 27;
    hash = hash.wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn ids(range: std::ops::Range<u128>) -> Vec<Uuid> {
        range.map(id).collect()
    }

    fn run(
        applications: &[Uuid],
        jurors: &[Uuid],
        existing: &[(Uuid, Uuid)],
        conflicts: &HashSet<(Uuid, Uuid)>,
        k: usize,
        max: Option<usize>,
    ) -> AssignmentPlan {
        plan(&AssignmentInput {
            applications,
            jurors,
            existing,
            conflicts,
            reviews_per_application: k,
            max_per_juror: max,
        })
    }

    fn loads(pairs: &[(Uuid, Uuid)]) -> BTreeMap<Uuid, usize> {
        let mut loads = BTreeMap::new();
        for (_, juror) in pairs {
            *loads.entry(*juror).or_insert(0) += 1;
        }
        loads
    }

    fn per_application(pairs: &[(Uuid, Uuid)]) -> BTreeMap<Uuid, usize> {
        let mut counts = BTreeMap::new();
        for (application, _) in pairs {
            *counts.entry(*application).or_insert(0) += 1;
        }
        counts
    }

    #[test]
    fn six_applications_three_jurors_two_reviews_each() {
        let applications = ids(1..7);
        let jurors = ids(100..103);
        let result = run(&applications, &jurors, &[], &HashSet::new(), 2, None);
        assert_eq!(result.new.len(), 12);
        assert!(result.short.is_empty());
        // 12 reviews over 3 jurors: exactly 4 each.
        assert!(loads(&result.new).values().all(|&load| load == 4));
        assert!(per_application(&result.new).values().all(|&n| n == 2));
    }

    #[test]
    fn the_same_juror_is_not_always_first() {
        // One review per application, no limits: with a plain id order juror 100 would take every first
        // slot of a round; the hash spreads the first picks.
        let applications = ids(1..41);
        let jurors = ids(100..104);
        let result = run(&applications, &jurors, &[], &HashSet::new(), 1, None);
        assert!(loads(&result.new).values().all(|&load| load == 10));
        let first_of_each_round: BTreeSet<Uuid> = result
            .new
            .chunks(4)
            .filter_map(|chunk| chunk.first().map(|pair| pair.1))
            .collect();
        assert!(first_of_each_round.len() > 1);
    }

    #[test]
    fn a_conflicted_juror_is_never_assigned() {
        let applications = ids(1..7);
        let jurors = ids(100..103);
        let conflicts = HashSet::from([(id(3), id(101))]);
        let result = run(&applications, &jurors, &[], &conflicts, 2, None);
        assert!(!result.new.contains(&(id(3), id(101))));
        assert!(result.short.is_empty());
        // Application 3 can only have jurors 100 and 102.
        let on_three: Vec<Uuid> = result
            .new
            .iter()
            .filter(|pair| pair.0 == id(3))
            .map(|pair| pair.1)
            .collect();
        assert_eq!(on_three, vec![id(100), id(102)]);
        let loads = loads(&result.new);
        assert_eq!(loads.values().sum::<usize>(), 12);
        assert!(loads.values().all(|&load| load == 4));
    }

    #[test]
    fn rerunning_fills_gaps_only() {
        let applications = ids(1..5);
        let jurors = ids(100..103);
        let first = run(&applications, &jurors, &[], &HashSet::new(), 2, None);
        // A new application arrives; the first plan is kept.
        let more = ids(1..6);
        let second = run(&more, &jurors, &first.new, &HashSet::new(), 2, None);
        assert_eq!(second.new.len(), 2);
        assert!(second.new.iter().all(|pair| pair.0 == id(5)));
        let all: Vec<(Uuid, Uuid)> = first.new.iter().chain(&second.new).copied().collect();
        let loads = loads(&all);
        let (min, max) = (loads.values().min(), loads.values().max());
        assert_eq!((min, max), (Some(&3), Some(&4)));
    }

    #[test]
    fn existing_pairs_with_a_conflict_or_a_former_juror_do_not_count() {
        let applications = vec![id(1)];
        let jurors = ids(100..103);
        let conflicts = HashSet::from([(id(1), id(100))]);
        // Juror 100 is now conflicted, juror 999 is no longer a juror: application 1 has no valid reviewer.
        let existing = vec![(id(1), id(100)), (id(1), id(999))];
        let result = run(&applications, &jurors, &existing, &conflicts, 2, None);
        assert_eq!(result.new, vec![(id(1), id(101)), (id(1), id(102))]);
        assert!(result.short.is_empty());
    }

    #[test]
    fn existing_pairs_on_other_applications_count_towards_the_load() {
        // Juror 100 already has two applications elsewhere in the stage, and a limit of two.
        let existing = vec![(id(50), id(100)), (id(51), id(100))];
        let result = run(
            &[id(1)],
            &ids(100..102),
            &existing,
            &HashSet::new(),
            2,
            Some(2),
        );
        assert_eq!(result.new, vec![(id(1), id(101))]);
        assert_eq!(result.short, vec![(id(1), 1)]);
    }

    #[test]
    fn the_limit_per_juror_leaves_applications_short() {
        // 5 applications × 2 reviews = 10, but 3 jurors × 3 = 9 at most.
        let applications = ids(1..6);
        let jurors = ids(100..103);
        let result = run(&applications, &jurors, &[], &HashSet::new(), 2, Some(3));
        assert_eq!(result.new.len(), 9);
        assert!(loads(&result.new).values().all(|&load| load == 3));
        assert_eq!(result.short.len(), 1);
        assert_eq!(result.short[0].1, 1);
    }

    #[test]
    fn more_reviews_than_jurors_gives_every_eligible_juror() {
        let conflicts = HashSet::from([(id(1), id(101))]);
        let result = run(&[id(1)], &ids(100..103), &[], &conflicts, 5, None);
        assert_eq!(result.new, vec![(id(1), id(100)), (id(1), id(102))]);
        assert_eq!(result.short, vec![(id(1), 2)]);
    }

    #[test]
    fn nothing_to_do() {
        let empty = HashSet::new();
        assert_eq!(
            run(&[], &ids(100..103), &[], &empty, 2, None),
            AssignmentPlan::default()
        );
        assert_eq!(
            run(&ids(1..3), &[], &[], &empty, 0, None),
            AssignmentPlan::default()
        );
        assert_eq!(
            run(&ids(1..3), &[], &[], &empty, 1, None).short,
            vec![(id(1), 0), (id(2), 0)]
        );
        assert_eq!(
            run(&ids(1..3), &ids(100..102), &[], &empty, 1, Some(0)).new,
            vec![]
        );
    }

    /// A cycle of conflicts where the greedy pass alone can block itself: three applications, three jurors
    /// with room for one each, each application conflicted with one juror. A perfect assignment always
    /// exists; the repair pass must find it whatever the ids (and so the hash order) are.
    #[test]
    fn repair_finds_a_full_assignment_when_greedy_blocks() {
        let mut greedy_was_short = 0;
        for seed in 0..200u128 {
            let applications: Vec<Uuid> = (0..3).map(|i| id(seed * 1_000 + i)).collect();
            let jurors: Vec<Uuid> = (0..3).map(|i| id(seed * 1_000 + 500 + i)).collect();
            let conflicts: HashSet<(Uuid, Uuid)> = (0..3)
                .map(|i| (applications[i], jurors[(i + 2) % 3]))
                .collect();
            let input = AssignmentInput {
                applications: &applications,
                jurors: &jurors,
                existing: &[],
                conflicts: &conflicts,
                reviews_per_application: 1,
                max_per_juror: Some(1),
            };
            let mut state = State::new(&input);
            state.greedy();
            if (0..3).any(|a| state.is_short(a)) {
                greedy_was_short += 1;
            }
            let result = plan(&input);
            assert_eq!(result.new.len(), 3, "seed {seed}");
            assert!(result.short.is_empty(), "seed {seed}");
            assert!(result.new.iter().all(|pair| !conflicts.contains(pair)));
        }
        assert!(greedy_was_short > 0, "the test never exercised the repair");
    }

    #[test]
    fn tie_break_is_stable() {
        // Pinned values: a change here would reshuffle every future plan.
        assert_eq!(tie_break(id(1), id(2)), tie_break(id(1), id(2)));
        assert_ne!(tie_break(id(1), id(2)), tie_break(id(2), id(1)));
        assert_eq!(tie_break(Uuid::nil(), Uuid::nil()), 0xd991_e919_0428_32c6);
    }

    // --- Property tests ----------------------------------------------------------------------------------

    #[derive(Debug, Clone)]
    struct Case {
        applications: Vec<Uuid>,
        jurors: Vec<Uuid>,
        existing: Vec<(Uuid, Uuid)>,
        conflicts: HashSet<(Uuid, Uuid)>,
        k: usize,
        max: Option<usize>,
    }

    impl Case {
        fn input(&self) -> AssignmentInput<'_> {
            AssignmentInput {
                applications: &self.applications,
                jurors: &self.jurors,
                existing: &self.existing,
                conflicts: &self.conflicts,
                reviews_per_application: self.k,
                max_per_juror: self.max,
            }
        }

        /// Whether an existing pair counts (see [`AssignmentInput::existing`]).
        fn counts(&self, pair: &(Uuid, Uuid)) -> bool {
            self.jurors.contains(&pair.1) && !self.conflicts.contains(pair)
        }

        fn counted_existing(&self) -> BTreeSet<(Uuid, Uuid)> {
            self.existing
                .iter()
                .filter(|pair| self.counts(pair))
                .copied()
                .collect()
        }
    }

    /// Random ids: small numbers often collide in the high bits like UUID v7 do, so mix in large ones.
    fn id_set(max: usize) -> impl Strategy<Value = Vec<Uuid>> {
        prop::collection::btree_set(any::<u128>(), 0..max)
            .prop_map(|set| set.into_iter().map(Uuid::from_u128).collect())
    }

    fn case(
        conflict_rate: f64,
        with_existing: bool,
        with_max: bool,
    ) -> impl Strategy<Value = Case> {
        (id_set(14), id_set(8), 0usize..5, 0usize..7, any::<u64>()).prop_map(
            move |(applications, jurors, k, max, seed)| {
                let mut rng = Rng(seed);
                let mut conflicts = HashSet::new();
                let mut existing = Vec::new();
                for application in &applications {
                    for juror in &jurors {
                        if rng.chance(conflict_rate) {
                            conflicts.insert((*application, *juror));
                        }
                        if with_existing && rng.chance(0.15) {
                            existing.push((*application, *juror));
                        }
                    }
                }
                if with_existing && !jurors.is_empty() {
                    // A pair for an application outside the list, and one with a former juror.
                    existing.push((id(u128::MAX), jurors[0]));
                    if let Some(application) = applications.first() {
                        existing.push((*application, id(u128::MAX - 1)));
                    }
                }
                Case {
                    applications,
                    jurors,
                    existing,
                    conflicts,
                    k,
                    max: with_max.then_some(max),
                }
            },
        )
    }

    /// Any case: conflicts, existing pairs and limits in every combination.
    fn any_case() -> impl Strategy<Value = Case> {
        prop_oneof![
            case(0.0, false, false),
            case(0.2, false, false),
            case(0.2, true, false),
            case(0.2, false, true),
            case(0.3, true, true),
            case(0.6, true, true),
        ]
    }

    /// A tiny deterministic generator for the parts proptest does not need to shrink.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn chance(&mut self, p: f64) -> bool {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64 > 1.0 - p
        }

        fn shuffle<T>(&mut self, items: &mut [T]) {
            for i in (1..items.len()).rev() {
                let j = (self.next() % (i as u64 + 1)) as usize;
                items.swap(i, j);
            }
        }
    }

    /// The largest number of pairs that can be added, by an independent maximum flow (Edmonds–Karp on a
    /// dense matrix): source → application (its missing reviewers) → juror (unit edges where eligible) →
    /// sink (the juror's remaining room).
    fn max_new_pairs(case: &Case) -> usize {
        let applications: Vec<Uuid> = BTreeSet::from_iter(case.applications.iter().copied())
            .into_iter()
            .collect();
        let jurors: Vec<Uuid> = BTreeSet::from_iter(case.jurors.iter().copied())
            .into_iter()
            .collect();
        let counted = case.counted_existing();
        let (na, nj) = (applications.len(), jurors.len());
        let (source, sink) = (na + nj, na + nj + 1);
        let n = na + nj + 2;
        let mut capacity = vec![vec![0usize; n]; n];
        for (a, application) in applications.iter().enumerate() {
            let have = counted.iter().filter(|pair| pair.0 == *application).count();
            capacity[source][a] = case.k.saturating_sub(have);
            for (j, juror) in jurors.iter().enumerate() {
                let pair = (*application, *juror);
                if !case.conflicts.contains(&pair) && !counted.contains(&pair) {
                    capacity[a][na + j] = 1;
                }
            }
        }
        for (j, juror) in jurors.iter().enumerate() {
            let load = counted.iter().filter(|pair| pair.1 == *juror).count();
            capacity[na + j][sink] = case
                .max
                .map_or(usize::MAX / 2, |max| max.saturating_sub(load));
        }
        let mut flow = 0;
        loop {
            let mut parent = vec![usize::MAX; n];
            parent[source] = source;
            let mut queue = VecDeque::from([source]);
            while let Some(u) = queue.pop_front() {
                for v in 0..n {
                    if parent[v] == usize::MAX && capacity[u][v] > 0 {
                        parent[v] = u;
                        queue.push_back(v);
                    }
                }
            }
            if parent[sink] == usize::MAX {
                return flow;
            }
            let mut bottleneck = usize::MAX;
            let mut v = sink;
            while v != source {
                bottleneck = bottleneck.min(capacity[parent[v]][v]);
                v = parent[v];
            }
            let mut v = sink;
            while v != source {
                capacity[parent[v]][v] -= bottleneck;
                capacity[v][parent[v]] += bottleneck;
                v = parent[v];
            }
            flow += bottleneck;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn plans_are_valid(case in any_case()) {
            let result = plan(&case.input());
            let counted = case.counted_existing();
            let existing: BTreeSet<(Uuid, Uuid)> = case.existing.iter().copied().collect();
            let new: BTreeSet<(Uuid, Uuid)> = result.new.iter().copied().collect();
            // No duplicate, no existing pair, no conflict, only listed applications and jurors.
            prop_assert_eq!(new.len(), result.new.len());
            for pair in &result.new {
                prop_assert!(!existing.contains(pair));
                prop_assert!(!case.conflicts.contains(pair));
                prop_assert!(case.applications.contains(&pair.0));
                prop_assert!(case.jurors.contains(&pair.1));
            }
            // Each application: at most k counted reviewers unless it already had more (then nothing new).
            let mut short = Vec::new();
            let mut sorted_applications = case.applications.clone();
            sorted_applications.sort_unstable();
            for application in &sorted_applications {
                let have = counted.iter().filter(|pair| pair.0 == *application).count();
                let added = new.iter().filter(|pair| pair.0 == *application).count();
                if have >= case.k {
                    prop_assert_eq!(added, 0);
                } else {
                    prop_assert!(have + added <= case.k);
                }
                if have + added < case.k {
                    short.push((*application, have + added));
                }
            }
            prop_assert_eq!(&result.short, &short);
            // Loads within the limit for every juror who was given something.
            if let Some(max) = case.max {
                let mut all: Vec<(Uuid, Uuid)> = counted.iter().copied().collect();
                all.extend(&result.new);
                let loads = loads(&all);
                for (_, juror) in &result.new {
                    prop_assert!(loads[juror] <= max);
                }
            }
            // Coverage: as many new pairs as any valid plan could add.
            prop_assert_eq!(result.new.len(), max_new_pairs(&case));
        }

        #[test]
        fn loads_differ_by_at_most_one_without_constraints(case in case(0.0, false, false)) {
            let result = plan(&case.input());
            let loads = loads(&result.new);
            let loads: Vec<usize> = case.jurors.iter().map(|j| loads.get(j).copied().unwrap_or(0)).collect();
            if let (Some(min), Some(max)) = (loads.iter().min(), loads.iter().max()) {
                prop_assert!(max - min <= 1, "{loads:?}");
            }
            // Without constraints every application is fully covered (as far as there are jurors).
            let expected = case.k.min(case.jurors.len());
            for (_, n) in per_application(&result.new) {
                prop_assert_eq!(n, expected);
            }
        }

        #[test]
        fn loads_stay_balanced_when_applications_arrive_later(
            case in case(0.0, false, false),
            split in 0usize..14,
        ) {
            // Plan for the first applications, then for all of them keeping the first plan.
            let mut applications = case.applications.clone();
            applications.sort_unstable();
            let split = split.min(applications.len());
            let first = plan(&AssignmentInput { applications: &applications[..split], ..case.input() });
            let second = plan(&AssignmentInput { existing: &first.new, ..case.input() });
            let all: Vec<(Uuid, Uuid)> = first.new.iter().chain(&second.new).copied().collect();
            let loads = loads(&all);
            let loads: Vec<usize> = case.jurors.iter().map(|j| loads.get(j).copied().unwrap_or(0)).collect();
            if let (Some(min), Some(max)) = (loads.iter().min(), loads.iter().max()) {
                prop_assert!(max - min <= 1, "{loads:?}");
            }
        }

        #[test]
        fn planning_again_adds_nothing(case in any_case()) {
            let first = plan(&case.input());
            let mut existing = case.existing.clone();
            existing.extend(&first.new);
            let again = plan(&AssignmentInput { existing: &existing, ..case.input() });
            prop_assert!(again.new.is_empty(), "{:?}", again.new);
            prop_assert_eq!(again.short, first.short);
        }

        #[test]
        fn input_order_does_not_matter(case in any_case(), seed in any::<u64>()) {
            let expected = plan(&case.input());
            let mut shuffled = case.clone();
            let mut rng = Rng(seed);
            rng.shuffle(&mut shuffled.applications);
            rng.shuffle(&mut shuffled.jurors);
            rng.shuffle(&mut shuffled.existing);
            // Duplicates in the input change nothing either.
            if let Some(first) = shuffled.applications.first().copied() {
                shuffled.applications.push(first);
            }
            if let Some(first) = shuffled.existing.first().copied() {
                shuffled.existing.push(first);
            }
            prop_assert_eq!(plan(&shuffled.input()), expected);
        }
    }
}
