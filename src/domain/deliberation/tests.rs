use super::*;
use crate::domain::form::{Criterion, Stage, Text};
use crate::domain::ranking::{rank_applications, weighted_score, ReviewScores};

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// Two criteria, 50 % each, both on 0–100: a review's weighted score is the mean of its two scores.
fn stage() -> Stage {
    let criterion = |key: &str| Criterion {
        key: key.to_owned(),
        label: Text::french(key),
        description: None,
        weight: 50,
        min: 0.0,
        max: 100.0,
    };
    Stage {
        key: "written".to_owned(),
        label: Text::french("Écrit"),
        criteria: vec![criterion("impact"), criterion("team")],
        starts_at: None,
        ends_at: None,
        extra_documents: Vec::new(),
    }
}

fn review(application: u128, juror: u128, impact: f64, team: f64) -> ReviewScores {
    ReviewScores {
        application: id(application),
        juror: id(juror),
        scores: [("impact".to_owned(), impact), ("team".to_owned(), team)].into(),
    }
}

/// Jurors 11, 12, 13 and 14 (14 conflicted on application 2, whose review does not count); applications
/// 1, 2 and 3.
fn world() -> (Vec<Ranked>, Vec<WeightedReview>, HashSet<(Uuid, Uuid)>) {
    let stage = stage();
    let reviews = vec![
        review(1, 11, 90.0, 70.0),  // 80
        review(1, 12, 70.0, 50.0),  // 60
        review(2, 12, 20.0, 40.0),  // 30
        review(2, 13, 100.0, 80.0), // 90
        review(3, 11, 50.0, 50.0),  // 50
        review(3, 13, 60.0, 40.0),  // 50
    ];
    let conflicts: HashSet<(Uuid, Uuid)> = [(id(2), id(14))].into();
    let ranking = rank_applications(&stage, &[], &reviews, 15.0)
        .into_iter()
        .map(|line| Ranked {
            reference: Some(format!("REF-{}", line.application.as_u128())),
            organization: Some("<script>alert(1)</script>".to_owned()),
            line,
        })
        .collect();
    let weighted = reviews
        .iter()
        .map(|r| WeightedReview {
            application: r.application,
            juror: r.juror,
            weighted: weighted_score(&stage, &r.scores).unwrap_or(f64::NAN),
        })
        .collect();
    (ranking, weighted, conflicts)
}

fn criteria() -> Vec<CriterionInput> {
    ["impact", "team"]
        .into_iter()
        .map(|key| CriterionInput {
            key: key.to_owned(),
            label: key.to_uppercase(),
            weight: 50,
            min: 0.0,
            max: 100.0,
        })
        .collect()
}

#[track_caller]
fn close(actual: Option<f64>, expected: f64) {
    match actual {
        Some(value) => assert!((value - expected).abs() < 1e-9, "{value} is not {expected}"),
        None => panic!("None is not {expected}"),
    }
}

fn figures(shortlist: Option<&BTreeSet<Uuid>>, requested_line: Option<usize>) -> Figures {
    let (ranking, reviews, conflicts) = world();
    let criteria = criteria();
    derive(&Input {
        call_id: id(1000),
        ranking: &ranking,
        reviews: &reviews,
        conflicts: &conflicts,
        jury: &[id(11), id(12), id(13), id(14)],
        criteria: &criteria,
        shortlist,
        requested_line,
    })
}

#[test]
fn the_applications_keep_the_ranking_s_figures_and_order() {
    let (ranking, _, _) = world();
    let figures = figures(None, None);
    assert_eq!(figures.applications.len(), 3);
    for (i, (line, app)) in ranking.iter().zip(&figures.applications).enumerate() {
        assert_eq!(app.rank, i + 1);
        assert_eq!(app.application_id, line.line.application);
        assert_eq!(app.score, line.line.score);
        assert_eq!(app.normalized_score, line.line.normalized_score);
        assert_eq!(app.stddev, line.line.stddev);
        assert_eq!(app.disagreement, line.line.disagreement);
        assert_eq!(app.n_reviews, app.scores.len());
    }
    // 1: 80 and 60 → 70; 2: 30 and 90 → 60, a disagreement; 3: 50 and 50.
    let first = &figures.applications[0];
    assert_eq!(first.application_id, id(1));
    close(first.min, 60.0);
    close(first.max, 80.0);
    let second = &figures.applications[1];
    assert_eq!(second.application_id, id(2));
    assert!(second.disagreement);
    close(second.min, 30.0);
    close(second.max, 90.0);
}

#[test]
fn jurors_are_labelled_in_a_stable_order_and_conflicts_are_shown_on_their_application() {
    let figures = figures(None, None);
    let order = juror_order(id(1000), [id(14), id(12), id(11), id(13)]);
    assert_eq!(
        order,
        juror_order(id(1000), [id(11), id(12), id(13), id(14)])
    );
    let label = |juror: u128| {
        format!(
            "J{}",
            order.iter().position(|j| *j == id(juror)).unwrap_or(99) + 1
        )
    };
    let labels: Vec<&str> = figures.jurors.iter().map(|j| j.label.as_str()).collect();
    assert_eq!(labels, ["J1", "J2", "J3", "J4"]);
    let second = &figures.applications[1];
    assert_eq!(second.conflicts, [label(14)]);
    let mut expected = vec![(label(12), 30.0), (label(13), 90.0)];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(second.scores.len(), 2);
    for (got, (juror, score)) in second.scores.iter().zip(&expected) {
        assert_eq!(&got.juror, juror);
        close(Some(got.score), *score);
    }
    assert!(figures.applications[0].conflicts.is_empty());
    let conflicted = figures
        .jurors
        .iter()
        .find(|j| j.label == label(14))
        .expect("juror 14");
    assert_eq!(conflicted.conflicts, 1);
    assert!(conflicted.scores.is_none());
    assert!(figures
        .jurors
        .iter()
        .all(|j| j.name.is_none() && j.user_id.is_none()));
    // Another call orders the same jury otherwise (almost surely: 1 chance in 24 to be equal).
    assert_ne!(
        juror_order(id(1001), [id(11), id(12), id(13), id(14)]),
        order
    );
}

#[test]
fn the_jury_and_each_juror_are_summarised() {
    let figures = figures(None, None);
    let jury = figures.jury.expect("reviews");
    assert_eq!(jury.n, 6);
    close(Some(jury.mean), 60.0);
    close(Some(jury.min), 30.0);
    close(Some(jury.max), 90.0);
    let counted: usize = figures
        .jurors
        .iter()
        .filter_map(|j| j.scores.map(|s| s.n))
        .sum();
    assert_eq!(counted, 6);
    // Two reviews each: too few for tendencies.
    assert!(figures.jurors.iter().all(|j| j.tendencies.is_empty()));
}

#[test]
fn criteria_means_average_the_applications_means() {
    let figures = figures(None, None);
    // impact: (80 + 60 + 55) / 3 = 65; team: (60 + 60 + 45) / 3 = 55.
    let keys: Vec<(&str, &str)> = figures
        .criteria
        .iter()
        .map(|c| (c.key.as_str(), c.label.as_str()))
        .collect();
    assert_eq!(keys, [("impact", "IMPACT"), ("team", "TEAM")]);
    close(figures.criteria[0].mean, 65.0);
    close(figures.criteria[1].mean, 55.0);
}

#[test]
fn the_line_is_the_shortlist_s_count_else_the_one_asked_for() {
    assert_eq!(figures(None, None).line, None);
    let asked = figures(None, Some(2));
    assert_eq!(
        asked.line,
        Some(Line {
            count: 2,
            source: LineSource::Requested
        })
    );
    assert!(asked.applications.iter().all(|a| a.shortlisted.is_none()));
    assert_eq!(figures(None, Some(50)).line.map(|l| l.count), Some(3));
    // The shortlist kept 1 and 3 (and an application of another stage): two above the line; it wins
    // over the line asked for.
    let kept: BTreeSet<Uuid> = [id(1), id(3), id(77)].into();
    let shortlisted = figures(Some(&kept), Some(1));
    assert_eq!(
        shortlisted.line,
        Some(Line {
            count: 2,
            source: LineSource::Shortlist
        })
    );
    let flags: Vec<Option<bool>> = shortlisted
        .applications
        .iter()
        .map(|a| a.shortlisted)
        .collect();
    assert_eq!(flags, [Some(true), Some(false), Some(true)]);
}

#[test]
fn no_review_gives_empty_figures() {
    let criteria = criteria();
    let figures = derive(&Input {
        call_id: id(1),
        ranking: &[],
        reviews: &[],
        conflicts: &HashSet::new(),
        jury: &[id(11)],
        criteria: &criteria,
        shortlist: None,
        requested_line: Some(5),
    });
    assert!(figures.applications.is_empty());
    assert!(figures.jury.is_none());
    assert_eq!(figures.jurors.len(), 1);
    assert!(figures.criteria.iter().all(|c| c.mean.is_none()));
    assert_eq!(figures.line.map(|l| l.count), Some(0));
}
