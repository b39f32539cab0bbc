//! Deadlines of the relayed connections of one event loop, enforced by one coarse
//! periodic sweep instead of a timer per connection.
//!
//! A tokio timer per connection (dial bound, header-write bound, idle timeout) costs a
//! timer-wheel insertion and removal under the driver's lock each, and often an extra
//! wake-up of the event loop to shorten its epoll timeout; a cancellation token polled
//! by every connection costs a lock shared by all loops on every wake-up. Here a
//! connection only records its phase and deadline, and bumps a counter when it moves
//! bytes; one sweep per tick (a fraction of the shortest bound) stops the connections
//! that overran, and the drain's force-close goes through the same table.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// Slices per bound: a deadline is enforced at most one slice (plus the time the loop
/// takes to get to the sweep) late.
const TICKS_PER_BOUND: u32 = 16;
const MIN_TICK: Duration = Duration::from_millis(5);
const MAX_TICK: Duration = Duration::from_secs(1);

/// What a connection is doing, which decides the bound that applies to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Backend name lookup, under the dial deadline.
    Lookup,
    /// Backend TCP connect, under the dial deadline.
    Connect,
    /// Writing the PROXY header, under its own deadline.
    Header,
    /// Relaying, under the idle timeout.
    Relay,
}

impl Phase {
    const ALL: [Phase; 4] = [Phase::Lookup, Phase::Connect, Phase::Header, Phase::Relay];
}

/// Why a supervised connection was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The deadline (or the idle timeout) of this phase passed.
    Expired(Phase),
    /// The server closed every remaining connection (end of the shutdown grace).
    ForceClosed,
}

const RUNNING: u8 = u8::MAX;
const FORCE_CLOSED: u8 = u8::MAX - 1;
const NO_DEADLINE: u64 = u64::MAX;

/// One connection's side of the table: written by the connection, read by the sweep.
pub struct Watch {
    origin: Instant,
    phase: AtomicU8,
    /// Milliseconds since `origin`; `NO_DEADLINE` while relaying.
    deadline: AtomicU64,
    /// Bumped whenever bytes move; the sweep only compares it between ticks.
    activity: AtomicU64,
    /// `RUNNING`, `FORCE_CLOSED` or the index of the phase that expired.
    stop: AtomicU8,
    waker: Mutex<Option<Waker>>,
    slot: usize,
}

impl Watch {
    /// Enters `phase`, to be over within `budget` from now.
    pub fn enter(&self, phase: Phase, budget: Duration) {
        let deadline = self.millis_since_origin(Instant::now()) + millis_rounded_up(budget);
        self.deadline.store(deadline, Relaxed);
        self.phase.store(phase as u8, Relaxed);
    }

    /// Moves on to `phase` under the deadline already set (lookup then connect share the
    /// dial deadline).
    pub fn advance(&self, phase: Phase) {
        self.phase.store(phase as u8, Relaxed);
    }

    /// Enters the relay phase: no deadline, only the idle timeout.
    pub fn enter_relay(&self) {
        self.deadline.store(NO_DEADLINE, Relaxed);
        self.phase.store(Phase::Relay as u8, Relaxed);
    }

    /// Records that bytes moved.
    pub fn touch(&self) {
        self.activity.fetch_add(1, Relaxed);
    }

    /// For a connection no task supervises: `waker` is woken when the watchdog stops
    /// it, and [`Watch::stopped`] then says why. Returns whether it is stopped already
    /// (a stop that came before the waker woke nothing).
    pub fn wake_on_stop(&self, waker: Waker) -> bool {
        *lock(&self.waker) = Some(waker);
        self.stopped().is_some()
    }

    fn phase(&self) -> Phase {
        Phase::ALL[usize::from(self.phase.load(Relaxed)).min(Phase::ALL.len() - 1)]
    }

    /// Why the watchdog stopped the connection, if it did.
    pub fn stopped(&self) -> Option<Stop> {
        match self.stop.load(Relaxed) {
            RUNNING => None,
            FORCE_CLOSED => Some(Stop::ForceClosed),
            phase => Some(Stop::Expired(
                Phase::ALL[usize::from(phase).min(Phase::ALL.len() - 1)],
            )),
        }
    }

    fn stop_with(&self, reason: u8) {
        if self
            .stop
            .compare_exchange(RUNNING, reason, Relaxed, Relaxed)
            .is_ok()
        {
            if let Some(waker) = lock(&self.waker).take() {
                waker.wake();
            }
        }
    }

    fn millis_since_origin(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.origin).as_millis()).unwrap_or(u64::MAX)
    }
}

fn millis_rounded_up(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX / 2)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; a poisoned one is still consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The sweep's private view of one connection.
struct Entry {
    watch: Arc<Watch>,
    seen_activity: u64,
    quiet_since: u64,
}

#[derive(Default)]
struct Table {
    entries: Vec<Option<Entry>>,
    free: Vec<usize>,
    live: usize,
}

/// The connections of one event loop and their bounds.
pub struct Watchdog {
    origin: Instant,
    idle_timeout: Option<Duration>,
    tick: Duration,
    table: Mutex<Table>,
}

impl Watchdog {
    /// `dial_timeout` and `idle_timeout` set how often the sweep must run.
    pub fn new(dial_timeout: Duration, idle_timeout: Option<Duration>) -> Arc<Watchdog> {
        // A zero dial budget fails dials before they start; it bounds nothing here.
        let tick = [Some(dial_timeout), idle_timeout]
            .into_iter()
            .flatten()
            .filter(|bound| !bound.is_zero())
            .min()
            .map_or(MAX_TICK, |shortest| {
                (shortest / TICKS_PER_BOUND).clamp(MIN_TICK, MAX_TICK)
            });
        Arc::new(Watchdog {
            origin: Instant::now(),
            idle_timeout,
            tick,
            table: Mutex::new(Table::default()),
        })
    }

    /// How often [`Watchdog::sweep`] should run.
    pub fn tick(&self) -> Duration {
        self.tick
    }

    /// Adds a connection; it leaves the table when the returned registration is dropped.
    pub fn register(self: &Arc<Self>) -> Registration {
        let mut table = lock(&self.table);
        let slot = table.free.pop().unwrap_or(table.entries.len());
        let watch = Arc::new(Watch {
            origin: self.origin,
            phase: AtomicU8::new(Phase::Lookup as u8),
            deadline: AtomicU64::new(NO_DEADLINE),
            activity: AtomicU64::new(0),
            stop: AtomicU8::new(RUNNING),
            waker: Mutex::new(None),
            slot,
        });
        let entry = Entry {
            watch: Arc::clone(&watch),
            seen_activity: 0,
            quiet_since: watch.millis_since_origin(Instant::now()),
        };
        if slot == table.entries.len() {
            table.entries.push(Some(entry));
        } else {
            table.entries[slot] = Some(entry);
        }
        table.live += 1;
        Registration {
            watchdog: Arc::clone(self),
            watch,
        }
    }

    /// Stops every connection whose phase deadline passed or that stayed idle for the
    /// idle timeout.
    pub fn sweep(&self) {
        let now = Instant::now();
        let now_millis = u64::try_from(now.saturating_duration_since(self.origin).as_millis())
            .unwrap_or(u64::MAX);
        let idle_millis = self.idle_timeout.map(millis_rounded_up);
        let mut table = lock(&self.table);
        for entry in table.entries.iter_mut().flatten() {
            let watch = &entry.watch;
            let activity = watch.activity.load(Relaxed);
            if activity != entry.seen_activity {
                entry.seen_activity = activity;
                entry.quiet_since = now_millis;
            }
            let phase = watch.phase();
            let overdue = if phase == Phase::Relay {
                idle_millis.is_some_and(|idle| now_millis.saturating_sub(entry.quiet_since) >= idle)
            } else {
                now_millis >= watch.deadline.load(Relaxed)
            };
            if overdue {
                watch.stop_with(phase as u8);
            }
        }
    }

    /// Stops every connection in the table.
    pub fn force_close_all(&self) {
        for entry in lock(&self.table).entries.iter().flatten() {
            entry.watch.stop_with(FORCE_CLOSED);
        }
    }

    pub fn is_empty(&self) -> bool {
        lock(&self.table).live == 0
    }

    fn remove(&self, slot: usize) {
        let mut table = lock(&self.table);
        if let Some(entry) = table.entries.get_mut(slot) {
            if entry.take().is_some() {
                table.free.push(slot);
                table.live -= 1;
            }
        }
    }
}

/// A connection's place in its loop's table.
pub struct Registration {
    watchdog: Arc<Watchdog>,
    watch: Arc<Watch>,
}

impl Registration {
    pub fn watch(&self) -> &Watch {
        &self.watch
    }

    /// The watch, for a part of the connection that outlives this borrow.
    pub fn shared_watch(&self) -> Arc<Watch> {
        Arc::clone(&self.watch)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.watchdog.remove(self.watch.slot);
    }
}

/// Runs `future` until it completes or the watchdog stops it. A stopped future is
/// dropped at once (closing whatever sockets it owns), right after `on_stop` ran, so
/// that whatever `on_stop` records is visible before the peers see the close. Costs
/// one atomic load per poll.
pub async fn supervise<F: Future>(
    watch: &Watch,
    future: F,
    on_stop: impl FnOnce(Stop),
) -> Result<F::Output, Stop> {
    let mut on_stop = Some(on_stop);
    let mut future = pin!(future);
    let mut registered: Option<Waker> = None;
    std::future::poll_fn(|cx| {
        // The waker is stored before `stop` is read: a sweep that sets `stop` after the
        // read finds the waker and wakes this task again.
        if !registered
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()))
        {
            *lock(&watch.waker) = Some(cx.waker().clone());
            registered = Some(cx.waker().clone());
        }
        if let Some(stop) = watch.stopped() {
            if let Some(on_stop) = on_stop.take() {
                on_stop(stop);
            }
            return Poll::Ready(Err(stop));
        }
        future.as_mut().poll(cx).map(Ok)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn sweep_until_empty_or(watchdog: &Watchdog, limit: Duration) {
        let started = Instant::now();
        while started.elapsed() < limit {
            watchdog.sweep();
            tokio::time::sleep(watchdog.tick()).await;
        }
    }

    #[tokio::test]
    async fn a_stalled_header_write_is_stopped_within_five_times_its_budget() {
        let watchdog = Watchdog::new(Duration::from_millis(100), None);
        let registration = watchdog.register();
        let watch = registration.watch();
        watch.enter(Phase::Header, Duration::from_millis(100));
        let started = Instant::now();
        let sweeper = async {
            sweep_until_empty_or(&watchdog, Duration::from_secs(2)).await;
        };
        let outcome = tokio::select! {
            outcome = supervise(watch, std::future::pending::<()>(), |_| {}) => outcome,
            _ = sweeper => panic!("never stopped"),
        };
        assert_eq!(outcome, Err(Stop::Expired(Phase::Header)));
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(100) && waited < Duration::from_millis(500),
            "{waited:?}"
        );
    }

    #[tokio::test]
    async fn activity_defers_the_idle_timeout_and_silence_triggers_it() {
        let idle = Duration::from_millis(200);
        let watchdog = Watchdog::new(Duration::from_secs(5), Some(idle));
        let busy = watchdog.register();
        let quiet = watchdog.register();
        busy.watch().enter_relay();
        quiet.watch().enter_relay();
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(600) {
            busy.watch().touch();
            watchdog.sweep();
            tokio::time::sleep(watchdog.tick()).await;
        }
        assert_eq!(busy.watch().stopped(), None, "active connection stopped");
        assert_eq!(
            quiet.watch().stopped(),
            Some(Stop::Expired(Phase::Relay)),
            "idle connection kept"
        );
    }

    #[tokio::test]
    async fn no_idle_timeout_keeps_quiet_connections() {
        let watchdog = Watchdog::new(Duration::from_millis(50), None);
        let registration = watchdog.register();
        registration.watch().enter_relay();
        sweep_until_empty_or(&watchdog, Duration::from_millis(200)).await;
        assert_eq!(registration.watch().stopped(), None);
    }

    #[tokio::test]
    async fn force_close_stops_everything_and_finished_connections_leave() {
        let watchdog = Watchdog::new(Duration::from_secs(5), None);
        let first = watchdog.register();
        let second = watchdog.register();
        second.watch().enter_relay();
        drop(first);
        assert!(!watchdog.is_empty());
        let third = watchdog.register();
        assert_eq!(third.watch().slot, 0, "freed slot reused");
        watchdog.force_close_all();
        let mut seen = None;
        let outcome = supervise(second.watch(), std::future::pending::<()>(), |stop| {
            seen = Some(stop)
        })
        .await;
        assert_eq!(outcome, Err(Stop::ForceClosed));
        assert_eq!(seen, Some(Stop::ForceClosed));
        assert_eq!(third.watch().stopped(), Some(Stop::ForceClosed));
        drop((second, third));
        assert!(watchdog.is_empty());
    }

    #[test]
    fn tick_is_a_slice_of_the_shortest_bound() {
        let tick = |dial, idle| Watchdog::new(dial, idle).tick();
        assert_eq!(
            tick(Duration::from_secs(5), Some(Duration::from_secs(3600))),
            Duration::from_millis(312) + Duration::from_micros(500)
        );
        assert_eq!(
            tick(Duration::from_secs(5), None),
            tick(Duration::from_secs(5), Some(Duration::from_secs(60)))
        );
        assert_eq!(tick(Duration::from_millis(1), None), MIN_TICK);
        assert_eq!(
            tick(Duration::ZERO, None),
            MAX_TICK,
            "zero dial budget bounds nothing"
        );
        assert_eq!(
            tick(Duration::ZERO, Some(Duration::from_secs(8))),
            Duration::from_millis(500)
        );
        assert_eq!(tick(Duration::from_secs(600), None), MAX_TICK);
    }
}
