//! The pump the one-job driver runs its state machine with: it feeds inputs
//! stamped with `performance.now()`, hands every action to the driver to
//! carry out, and keeps one timer armed at the machine's next deadline.
//!
//! Work is queued and run to completion, so an input that arrives while an
//! action is being carried out (a UI callback that presses Reconnect, a
//! socket that fails to open) is handled after the current batch, in order,
//! and the machine is never borrowed twice.
//!
//! Any sans-IO machine with the four calls of [`Machine`] runs in it; a
//! driver only says how to carry out an action ([`Carrier::execute`]). The
//! page driver runs its own loop of the same shape, because each batch
//! also drives the tab election beside its `PageConnection`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use upload_progress_core::session::{Action, Input, Millis, Session};

use crate::shell::clock;

/// A sans-IO state machine driven by inputs and a clock.
pub(crate) trait Machine: 'static {
    type Input;
    type Action;
    fn handle(&mut self, input: Self::Input, now: Millis);
    fn handle_timeout(&mut self, now: Millis);
    fn poll_action(&mut self) -> Option<Self::Action>;
    fn poll_timeout(&self) -> Option<Millis>;
}

impl Machine for Session {
    type Input = Input;
    type Action = Action;
    fn handle(&mut self, input: Input, now: Millis) {
        Session::handle(self, input, now);
    }
    fn handle_timeout(&mut self, now: Millis) {
        Session::handle_timeout(self, now);
    }
    fn poll_action(&mut self) -> Option<Action> {
        Session::poll_action(self)
    }
    fn poll_timeout(&self) -> Option<Millis> {
        Session::poll_timeout(self)
    }
}

/// A driver: owns a [`Pump`] and carries out its machine's actions.
pub(crate) trait Carrier: Sized + 'static {
    type Machine: Machine;
    fn pump(&self) -> &Pump<Self::Machine>;
    /// Carries out one action; the machine is not borrowed meanwhile.
    fn execute(this: &Rc<Self>, action: <Self::Machine as Machine>::Action);
    /// Called when the queue ran empty.
    fn idle(_this: &Rc<Self>) {}
}

/// The machine, the work waiting for it, and its one timer.
pub(crate) struct Pump<M: Machine> {
    machine: RefCell<M>,
    /// `None` is the timer's wake-up.
    queue: RefCell<VecDeque<Option<M::Input>>>,
    running: Cell<bool>,
    stopped: Cell<bool>,
    timer: RefCell<Option<(Millis, Timeout)>>,
}

impl<M: Machine> Pump<M> {
    pub(crate) fn new(machine: M) -> Self {
        Self {
            machine: RefCell::new(machine),
            queue: RefCell::new(VecDeque::new()),
            running: Cell::new(false),
            stopped: Cell::new(false),
            timer: RefCell::new(None),
        }
    }

    /// Nothing more is fed or carried out: the timer and the queue go.
    pub(crate) fn stop(&self) {
        self.stopped.set(true);
        let timer = self.timer.borrow_mut().take();
        drop(timer);
        self.queue.borrow_mut().clear();
    }
}

/// Feeds one input: at once, or after the batch being carried out.
pub(crate) fn push<C: Carrier>(this: &Rc<C>, input: <C::Machine as Machine>::Input) {
    run(this, Some(input));
}

fn run<C: Carrier>(this: &Rc<C>, work: Option<<C::Machine as Machine>::Input>) {
    let pump = this.pump();
    if pump.stopped.get() {
        return;
    }
    pump.queue.borrow_mut().push_back(work);
    if pump.running.replace(true) {
        return;
    }
    loop {
        let next = pump.queue.borrow_mut().pop_front();
        let Some(work) = next else { break };
        if pump.stopped.get() {
            break;
        }
        let actions = {
            let mut machine = pump.machine.borrow_mut();
            let now = clock::now();
            match work {
                Some(input) => machine.handle(input, now),
                None => machine.handle_timeout(now),
            }
            let mut actions = Vec::new();
            while let Some(action) = machine.poll_action() {
                actions.push(action);
            }
            actions
        };
        for action in actions {
            // A UI callback may have dropped the driver in the middle of a
            // batch; nothing new may be opened after that.
            if pump.stopped.get() {
                break;
            }
            C::execute(this, action);
        }
        arm_timer(this);
    }
    pump.running.set(false);
    C::idle(this);
}

/// Keeps one timer armed at the machine's next deadline.
fn arm_timer<C: Carrier>(this: &Rc<C>) {
    let pump = this.pump();
    let mut timer = pump.timer.borrow_mut();
    if pump.stopped.get() {
        *timer = None;
        return;
    }
    let deadline = pump.machine.borrow().poll_timeout();
    match (deadline, &*timer) {
        (None, _) => *timer = None,
        // Every frame pushes the stall deadline later. A timer armed for
        // an earlier moment stays: when it fires, the machine finds
        // nothing due and this re-arms for the real deadline. That is
        // one spare wake-up per deadline instead of a new timer (and
        // closure) per message.
        (Some(d), Some((armed, _))) if *armed <= d => {}
        (Some(d), _) => {
            // setTimeout may fire a fraction early against performance.now();
            // one extra millisecond keeps the machine from seeing "not yet".
            let delay = d.saturating_sub(clock::now()).saturating_add(1);
            let delay = u32::try_from(delay).unwrap_or(u32::MAX);
            let weak = Rc::downgrade(this);
            let fired = Timeout::new(delay, move || {
                if let Some(this) = weak.upgrade() {
                    this.pump().timer.borrow_mut().take();
                    run(&this, None);
                }
            });
            *timer = Some((d, fired));
        }
    }
}
