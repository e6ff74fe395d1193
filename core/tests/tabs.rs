//! The election of the tab that holds the page connection, on a fake clock:
//! single tabs driven by hand, and a small world of tabs sharing one Web
//! Lock and one broadcast channel.

use std::collections::VecDeque;

use proptest::prelude::*;

use upload_progress_core::page::tabs::{HEARTBEAT_MS, SILENT_AFTER_MS, STEAL_AFTER_MS};
use upload_progress_core::page::{
    Lifecycle, PageStatus, RoleKind, Rung, Subscription, TabAction, TabMessage, Tabs, TokenSource,
};
use upload_progress_core::ProcessId;

const LIVE: PageStatus = PageStatus::Live {
    rung: Rung::WebSocket,
};

fn job(id: &str) -> ProcessId {
    ProcessId::parse(id).unwrap()
}

fn sub(id: &str, token: Option<&str>) -> Subscription {
    Subscription {
        job: job(id),
        token: token.map(str::to_owned),
    }
}

fn drain(tabs: &mut Tabs) -> Vec<TabAction> {
    std::iter::from_fn(|| tabs.poll_action()).collect()
}

fn posts(actions: &[TabAction]) -> Vec<TabMessage> {
    actions
        .iter()
        .filter_map(|a| match a {
            TabAction::Post(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn heartbeat(from: u64) -> TabMessage {
    TabMessage::Heartbeat { from, status: LIVE }
}

/// A follower (tab id 1000: no steal jitter) that heard leader 9 at `at`.
fn follower_of_9(at: u64) -> Tabs {
    let mut tabs = Tabs::new(1000, true, 0);
    tabs.handle_message(heartbeat(9), at);
    drain(&mut tabs);
    tabs
}

#[test]
fn a_tab_without_locks_or_channel_is_solo_and_decides_nothing() {
    let mut tabs = Tabs::new(1, false, 0);
    assert_eq!(tabs.kind(), RoleKind::Solo);
    tabs.handle_message(heartbeat(2), 10);
    tabs.handle_lifecycle(Lifecycle::Frozen, 20);
    tabs.handle_lifecycle(Lifecycle::Resumed, 30);
    tabs.relay_subscribe(sub("a", None));
    tabs.handle_timeout(100_000);
    assert_eq!(drain(&mut tabs), []);
    assert_eq!(tabs.poll_timeout(), None);
    assert_eq!(tabs.shown(LIVE), LIVE);
}

#[test]
fn a_tab_asks_for_the_lock_and_leads_when_granted() {
    let mut tabs = Tabs::new(5, true, 0);
    let actions = drain(&mut tabs);
    assert_eq!(actions[0], TabAction::RequestLock);
    assert!(actions.contains(&TabAction::Became(RoleKind::Follower)));
    tabs.set_status(LIVE, 40);
    assert_eq!(drain(&mut tabs), [], "a follower sends no heartbeat");
    tabs.handle_lock_granted(50);
    let actions = drain(&mut tabs);
    assert!(actions.contains(&TabAction::Became(RoleKind::Leader)));
    assert_eq!(
        posts(&actions),
        [TabMessage::Heartbeat {
            from: 5,
            status: PageStatus::Connecting {
                rung: Rung::WebSocket
            }
        }],
        "the leader announces itself at once, as connecting: what its \
         connection was as a follower says nothing about the real one"
    );
    assert_eq!(tabs.poll_timeout(), Some(50 + HEARTBEAT_MS));
}

#[test]
fn the_leader_heartbeats_every_second_and_on_each_status_change() {
    let mut tabs = Tabs::new(5, true, 0);
    tabs.handle_lock_granted(0);
    drain(&mut tabs);
    // (time, status set before the timeout, heartbeats expected)
    let table: [(u64, Option<PageStatus>, usize); 7] = [
        (999, None, 0),
        (1_000, None, 1),
        (1_500, Some(PageStatus::Checking { rung: Rung::Sse }), 1),
        (1_999, None, 0),
        (2_000, None, 1),
        (2_400, Some(PageStatus::Checking { rung: Rung::Sse }), 0),
        // Paused: the page hides and the leader resigns next.
        (2_500, Some(PageStatus::Paused), 0),
    ];
    for (now, status, expected) in table {
        if let Some(status) = status {
            tabs.set_status(status, now);
        }
        tabs.handle_timeout(now);
        let beats = posts(&drain(&mut tabs))
            .into_iter()
            .filter(|m| matches!(m, TabMessage::Heartbeat { .. }))
            .count();
        assert_eq!(beats, expected, "at {now}");
    }
}

#[test]
fn a_reconnecting_leader_is_shown_on_the_followers_clock() {
    let mut leader = Tabs::new(5, true, 0);
    leader.handle_lock_granted(0);
    drain(&mut leader);
    leader.set_status(
        PageStatus::Reconnecting {
            rung: Rung::Sse,
            retry_at: 5_000,
        },
        3_000,
    );
    let beat = posts(&drain(&mut leader)).pop().unwrap();
    assert_eq!(
        beat,
        TabMessage::Heartbeat {
            from: 5,
            status: PageStatus::Reconnecting {
                rung: Rung::Sse,
                retry_at: 2_000
            }
        }
    );
    let mut follower = Tabs::new(1000, true, 0);
    drain(&mut follower);
    assert_eq!(
        follower.shown(LIVE),
        PageStatus::Connecting {
            rung: Rung::WebSocket
        },
        "no leader heard yet: never a stale live"
    );
    follower.handle_message(TabMessage::decode(&beat.encode()).unwrap(), 100);
    assert!(drain(&mut follower).contains(&TabAction::StatusChanged));
    assert_eq!(
        follower.shown(LIVE),
        PageStatus::Reconnecting {
            rung: Rung::Sse,
            retry_at: 2_100
        }
    );
    assert_eq!(follower.shown(PageStatus::Idle), PageStatus::Idle);
}

#[test]
fn a_follower_resends_its_subscriptions_to_each_new_leader() {
    let mut tabs = Tabs::new(1000, true, 0);
    drain(&mut tabs);
    tabs.relay_subscribe(sub("a", Some("t1")));
    tabs.relay_subscribe(sub("b", None));
    tabs.relay_subscribe(sub("a", Some("t2")));
    assert_eq!(posts(&drain(&mut tabs)).len(), 3, "each sent as asked");
    tabs.relay_unsubscribe(job("b"));
    drain(&mut tabs);
    // (who beats, subscriptions resent)
    let table = [(9, 1), (9, 0), (9, 0), (11, 1), (9, 1)];
    for (from, resent) in table {
        tabs.handle_message(heartbeat(from), 500);
        let actions = drain(&mut tabs);
        let subs: Vec<_> = posts(&actions)
            .into_iter()
            .filter_map(|m| match m {
                TabMessage::Subscribe { from, subscription } => {
                    assert_eq!(from, 1000);
                    Some(subscription)
                }
                _ => None,
            })
            .collect();
        assert_eq!(subs.len(), resent, "heartbeat of {from}");
        if resent == 1 {
            assert_eq!(subs[0], sub("a", Some("t2")), "the newest token");
        }
        assert!(actions.contains(&TabAction::LeaderHeard));
    }
    tabs.relay_closed();
    assert_eq!(posts(&drain(&mut tabs)), [TabMessage::Bye { from: 1000 }]);
    tabs.relay_closed();
    assert_eq!(drain(&mut tabs), [], "nothing left to say goodbye for");
}

#[test]
fn a_silent_leader_shows_reconnecting_then_its_lock_is_stolen() {
    let mut tabs = follower_of_9(10_000);
    let steal_at = 10_000 + STEAL_AFTER_MS; // id 1000: jitter 1000 % 501 = 499
    let steal_at = steal_at + 499;
    // (time, shown status is live, actions expected)
    let table: Vec<(u64, bool, Vec<TabAction>)> = vec![
        (10_000 + SILENT_AFTER_MS - 1, true, vec![]),
        (
            10_000 + SILENT_AFTER_MS,
            false,
            vec![TabAction::StatusChanged],
        ),
        (steal_at - 1, false, vec![]),
        (steal_at, false, vec![TabAction::StealLock]),
        (steal_at + 5_000, false, vec![]),
    ];
    for (now, live, expected) in table {
        assert!(tabs.poll_timeout().is_none_or(|t| t >= now.min(steal_at)));
        tabs.handle_timeout(now);
        assert_eq!(drain(&mut tabs), expected, "at {now}");
        assert_eq!(tabs.shown(LIVE) == LIVE, live, "at {now}");
    }
    assert!(
        steal_at - 10_000 < 5_000 - HEARTBEAT_MS,
        "even a leader frozen just before its next beat is replaced within 5 s"
    );
    // The leader comes back: live again, no second steal.
    tabs.handle_message(heartbeat(9), steal_at + 6_000);
    assert!(drain(&mut tabs).contains(&TabAction::StatusChanged));
    assert_eq!(tabs.shown(LIVE), LIVE);
}

#[test]
fn frames_from_the_leader_count_as_heartbeats_and_are_delivered() {
    let mut tabs = follower_of_9(0);
    for at in [2_000, 4_000, 6_000] {
        tabs.handle_message(
            TabMessage::Frame {
                from: 9,
                text: "f".into(),
            },
            at,
        );
        tabs.handle_timeout(at + SILENT_AFTER_MS - 1);
        let actions = drain(&mut tabs);
        assert!(actions.contains(&TabAction::Deliver("f".into())));
        assert!(!actions.contains(&TabAction::StealLock));
    }
    assert_eq!(tabs.shown(LIVE), LIVE);
}

#[test]
fn a_leader_that_freezes_or_enters_the_bfcache_resigns_and_rejoins_as_follower() {
    for event in [Lifecycle::Frozen, Lifecycle::Hidden { persisted: true }] {
        let mut tabs = Tabs::new(5, true, 0);
        tabs.handle_lock_granted(0);
        drain(&mut tabs);
        tabs.handle_lifecycle(event, 100);
        let actions = drain(&mut tabs);
        assert_eq!(posts(&actions), [TabMessage::Resign { from: 5 }]);
        assert!(actions.contains(&TabAction::ReleaseLock));
        assert!(actions.contains(&TabAction::Became(RoleKind::Parked)));
        assert_eq!(tabs.poll_timeout(), None, "a parked tab sends nothing");
        tabs.handle_lock_granted(150);
        assert_eq!(drain(&mut tabs), [TabAction::ReleaseLock]);
        tabs.handle_lifecycle(Lifecycle::Resumed, 200);
        let actions = drain(&mut tabs);
        assert_eq!(actions[0], TabAction::RequestLock);
        assert!(actions.contains(&TabAction::Became(RoleKind::Follower)));
    }
}

#[test]
fn a_follower_hearing_its_leader_resign_shows_reconnecting_at_once() {
    let mut tabs = follower_of_9(0);
    tabs.handle_message(TabMessage::Resign { from: 7 }, 10);
    assert_eq!(drain(&mut tabs), [], "not its leader");
    tabs.handle_message(TabMessage::Resign { from: 9 }, 20);
    assert_eq!(drain(&mut tabs), [TabAction::StatusChanged]);
    assert!(matches!(tabs.shown(LIVE), PageStatus::Reconnecting { .. }));
}

#[test]
fn a_leader_whose_lock_was_stolen_follows() {
    let mut tabs = Tabs::new(5, true, 0);
    tabs.handle_lock_granted(0);
    drain(&mut tabs);
    tabs.handle_lock_lost(10);
    let actions = drain(&mut tabs);
    assert!(actions.contains(&TabAction::Became(RoleKind::Follower)));
    assert!(actions.contains(&TabAction::RequestLock));
    assert_eq!(tabs.kind(), RoleKind::Follower);
}

#[test]
fn the_leader_follows_a_job_while_any_tab_does_and_replays_its_newest_frame() {
    let mut tabs = Tabs::new(5, true, 0);
    tabs.handle_lock_granted(0);
    drain(&mut tabs);
    tabs.relay_frame(&job("j"), "old".into(), true);
    tabs.relay_frame(&job("j"), "new".into(), true);
    tabs.relay_frame(&job("j"), "error".into(), false);
    assert_eq!(posts(&drain(&mut tabs)).len(), 3, "every frame is relayed");
    let subscribe = |from| TabMessage::Subscribe {
        from,
        subscription: sub("j", Some("t")),
    };
    tabs.handle_message(subscribe(2), 10);
    assert_eq!(
        drain(&mut tabs),
        [
            TabAction::Subscribe(sub("j", Some("t"))),
            TabAction::Post(TabMessage::Frame {
                from: 5,
                text: "new".into()
            })
        ]
    );
    tabs.handle_message(subscribe(3), 20);
    drain(&mut tabs);
    assert!(tabs.followed_elsewhere(&job("j")));
    // (message, job let go)
    let table = [
        (
            TabMessage::Unsubscribe {
                from: 2,
                job: job("j"),
            },
            false,
        ),
        (TabMessage::Bye { from: 2 }, false),
        (TabMessage::Bye { from: 3 }, true),
    ];
    for (message, released) in table {
        tabs.handle_message(message.clone(), 30);
        let actions = drain(&mut tabs);
        assert_eq!(
            actions.contains(&TabAction::Unsubscribe(job("j"))),
            released,
            "{message:?}"
        );
    }
    assert!(!tabs.followed_elsewhere(&job("j")));
    tabs.forget(&job("j"));
    tabs.handle_message(subscribe(4), 40);
    assert_eq!(posts(&drain(&mut tabs)), [], "nothing kept to replay");
}

#[test]
fn a_token_refresh_goes_to_a_provider_here_else_to_the_tab_that_follows_the_job() {
    let mut solo = Tabs::new(1, false, 0);
    drain(&mut solo);
    let mut leader = Tabs::new(5, true, 0);
    leader.handle_lock_granted(0);
    leader.handle_message(
        TabMessage::Subscribe {
            from: 2,
            subscription: sub("theirs", None),
        },
        10,
    );
    drain(&mut leader);
    // (tab, job, a provider here, who answers)
    let table = [
        (&solo, "j", true, TokenSource::Provider),
        (&solo, "j", false, TokenSource::Nobody),
        (&leader, "theirs", true, TokenSource::Provider),
        (&leader, "theirs", false, TokenSource::OtherTab),
        (&leader, "mine", false, TokenSource::Nobody),
    ];
    for (tabs, id, here, want) in table {
        assert_eq!(tabs.token_source(&job(id), here), want, "{id} {here}");
    }
}

#[test]
fn a_set_poll_answer_is_relayed_whole_and_not_kept_for_replay() {
    let mut leader = Tabs::new(5, true, 0);
    drain(&mut leader);
    leader.relay_poll("{\"jobs\":[]}".into());
    assert_eq!(drain(&mut leader), [], "a follower relays nothing");
    leader.handle_lock_granted(0);
    drain(&mut leader);
    let body = r#"{"jobs":[{"process_id":"j","progress":{}}]}"#;
    leader.relay_poll(body.into());
    let posted = posts(&drain(&mut leader));
    assert_eq!(
        posted,
        [TabMessage::Frame {
            from: 5,
            text: body.into()
        }]
    );
    let mut follower = follower_of_9(0);
    let relayed = TabMessage::decode(&posted[0].encode()).unwrap();
    let relayed = match relayed {
        TabMessage::Frame { text, .. } => TabMessage::Frame { from: 9, text },
        other => other,
    };
    follower.handle_message(relayed, 10);
    assert!(drain(&mut follower).contains(&TabAction::Deliver(body.into())));
    leader.handle_message(
        TabMessage::Subscribe {
            from: 2,
            subscription: sub("j", None),
        },
        20,
    );
    assert_eq!(posts(&drain(&mut leader)), [], "nothing kept to replay");
}

#[test]
fn a_tab_ignores_its_own_messages() {
    let mut tabs = Tabs::new(1000, true, 0);
    drain(&mut tabs);
    tabs.handle_message(heartbeat(1000), 10);
    assert_eq!(drain(&mut tabs), []);
}

/// Tabs sharing one lock (granted in order of request) and one channel
/// (a post reaches every other live tab at once).
struct World {
    tabs: Vec<Tabs>,
    /// Frozen tabs run nothing and hear nothing, but keep their lock.
    frozen: Vec<bool>,
    holder: Option<usize>,
    waiting: VecDeque<usize>,
    now: u64,
}

impl World {
    fn new(ids: &[u64]) -> Self {
        let mut world = Self {
            tabs: ids.iter().map(|id| Tabs::new(*id, true, 0)).collect(),
            frozen: vec![false; ids.len()],
            holder: None,
            waiting: VecDeque::new(),
            now: 0,
        };
        world.settle();
        world
    }

    fn leaders(&self) -> Vec<usize> {
        (0..self.tabs.len())
            .filter(|i| self.tabs[*i].kind() == RoleKind::Leader)
            .collect()
    }

    /// Runs every action until nothing is left.
    fn settle(&mut self) {
        loop {
            let mut any = false;
            for i in 0..self.tabs.len() {
                if self.frozen[i] {
                    continue;
                }
                while let Some(action) = self.tabs[i].poll_action() {
                    any = true;
                    self.carry_out(i, action);
                }
            }
            if self.holder.is_none() {
                if let Some(next) = self.waiting.pop_front() {
                    self.holder = Some(next);
                    self.tabs[next].handle_lock_granted(self.now);
                    any = true;
                }
            }
            if !any {
                return;
            }
        }
    }

    fn carry_out(&mut self, i: usize, action: TabAction) {
        match action {
            TabAction::RequestLock => self.waiting.push_back(i),
            TabAction::ReleaseLock => {
                self.waiting.retain(|w| *w != i);
                if self.holder == Some(i) {
                    self.holder = None;
                }
            }
            TabAction::StealLock => {
                self.waiting.retain(|w| *w != i);
                if let Some(old) = self.holder.replace(i) {
                    if !self.frozen[old] {
                        self.tabs[old].handle_lock_lost(self.now);
                    }
                }
                self.tabs[i].handle_lock_granted(self.now);
            }
            TabAction::Post(message) => {
                let text = message.encode();
                for j in 0..self.tabs.len() {
                    if j != i && !self.frozen[j] {
                        let message = TabMessage::decode(&text).unwrap();
                        self.tabs[j].handle_message(message, self.now);
                    }
                }
            }
            _ => {}
        }
    }

    /// Advances the clock in 100 ms steps to `until`.
    fn run_until(&mut self, until: u64) {
        while self.now < until {
            self.now += 100;
            for i in 0..self.tabs.len() {
                if !self.frozen[i] && self.tabs[i].poll_timeout().is_some_and(|t| t <= self.now) {
                    self.tabs[i].handle_timeout(self.now);
                }
            }
            self.settle();
        }
    }

    /// The first time from now, up to 10 s, that a tab other than `old` leads.
    fn handover_after(&mut self, old: usize) -> u64 {
        let start = self.now;
        while self.now < start + 10_000 {
            if let Some(new) = self.leaders().into_iter().find(|l| *l != old) {
                assert!(!self.frozen[new]);
                return self.now - start;
            }
            self.run_until(self.now + 100);
        }
        panic!("no handover within 10 s");
    }
}

#[test]
fn three_tabs_elect_one_leader_and_stay_stable() {
    let mut world = World::new(&[101, 202, 303]);
    assert_eq!(world.leaders(), [0]);
    world.tabs[0].set_status(LIVE, 0);
    world.settle();
    world.run_until(60_000);
    assert_eq!(world.leaders(), [0], "heartbeats keep the followers calm");
    for i in [1, 2] {
        assert_eq!(
            world.tabs[i].shown(PageStatus::Checking { rung: Rung::Sse }),
            LIVE
        );
    }
}

#[test]
fn handover_timings_when_the_leader_goes_away() {
    // (how the leader goes, longest handover allowed in ms)
    let table: [(&str, u64); 4] = [
        ("closed", 0),
        ("frozen", 0),
        ("bfcache", 0),
        ("hard-frozen", STEAL_AFTER_MS + 500 + 100),
    ];
    for (how, longest) in table {
        let mut world = World::new(&[101, 202, 303]);
        world.run_until(2_350);
        assert_eq!(world.leaders(), [0]);
        let event = match how {
            "closed" => Some(Lifecycle::Hidden { persisted: false }),
            "frozen" => Some(Lifecycle::Frozen),
            "bfcache" => Some(Lifecycle::Hidden { persisted: true }),
            _ => None,
        };
        match event {
            Some(event) => world.tabs[0].handle_lifecycle(event, world.now),
            None => world.frozen[0] = true,
        }
        world.settle();
        let took = world.handover_after(0);
        assert!(took <= longest, "{how}: handover took {took} ms");
        assert!(took < 5_000, "{how}");
        let leaders = world.leaders();
        let new_leaders: Vec<_> = leaders.iter().filter(|l| **l != 0).collect();
        assert_eq!(new_leaders.len(), 1, "{how}: one new leader");
        world.run_until(world.now + 10_000);
        assert_eq!(
            world.holder,
            Some(*new_leaders[0]),
            "{how}: it keeps the lock"
        );
        if how == "hard-frozen" {
            // The frozen tab thaws: it learns its lock is gone and follows.
            world.frozen[0] = false;
            world.tabs[0].handle_lock_lost(world.now);
            world.settle();
            world.run_until(world.now + 5_000);
        } else if how != "closed" {
            world.tabs[0].handle_lifecycle(Lifecycle::Resumed, world.now);
            world.settle();
            world.run_until(world.now + 5_000);
        }
        let leaders = world.leaders();
        assert_eq!(leaders.len(), 1, "{how}: still one leader");
        assert_ne!(leaders[0], 0, "{how}: the old leader follows");
    }
}

/// What can happen to one tab of the world.
#[derive(Debug, Clone)]
enum Event {
    Wait(u64),
    /// Freezes hard (no event first) or thaws: a thawed tab learns whether
    /// its lock was stolen meanwhile.
    HardFreeze(usize),
    Thaw(usize),
    /// The page's own lifecycle events.
    Lifecycle(usize, Lifecycle),
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (100u64..4_000).prop_map(Event::Wait),
        (0usize..3).prop_map(Event::HardFreeze),
        (0usize..3).prop_map(Event::Thaw),
        (0usize..3, 0u8..4).prop_map(|(i, k)| Event::Lifecycle(
            i,
            match k {
                0 => Lifecycle::Frozen,
                1 => Lifecycle::Hidden { persisted: true },
                2 => Lifecycle::Hidden { persisted: false },
                _ => Lifecycle::Resumed,
            }
        )),
    ]
}

proptest! {
    /// Whatever happens, a tab that leads while running holds the lock, and
    /// whenever some running tab wants the connection, one running tab
    /// leads within 4 s (the longest steal wait plus a step).
    #[test]
    fn one_running_leader_holds_the_lock_and_one_is_found_within_4_s(
        events in proptest::collection::vec(event(), 1..40)
    ) {
        let mut world = World::new(&[101, 202, 303]);
        for event in events {
            match event {
                Event::Wait(ms) => world.run_until(world.now + ms),
                Event::HardFreeze(i) => world.frozen[i] = true,
                Event::Thaw(i) if world.frozen[i] => {
                    world.frozen[i] = false;
                    if world.holder != Some(i) {
                        world.tabs[i].handle_lock_lost(world.now);
                    }
                }
                Event::Thaw(_) => {}
                Event::Lifecycle(i, e) if !world.frozen[i] => {
                    world.tabs[i].handle_lifecycle(e, world.now);
                }
                Event::Lifecycle(..) => {}
            }
            world.settle();
            for leader in world.leaders() {
                if !world.frozen[leader] {
                    prop_assert_eq!(world.holder, Some(leader), "a running leader without the lock");
                }
            }
            let wanting = (0..3).any(|i| {
                !world.frozen[i] && world.tabs[i].kind() == RoleKind::Follower
            });
            if wanting {
                let mut probe = World {
                    tabs: world.tabs.clone(),
                    frozen: world.frozen.clone(),
                    holder: world.holder,
                    waiting: world.waiting.clone(),
                    now: world.now,
                };
                probe.run_until(probe.now + STEAL_AFTER_MS + 1_000);
                let running_leaders = probe
                    .leaders()
                    .into_iter()
                    .filter(|l| !probe.frozen[*l])
                    .count();
                prop_assert_eq!(running_leaders, 1, "no running leader 4 s later");
            }
        }
    }
}
