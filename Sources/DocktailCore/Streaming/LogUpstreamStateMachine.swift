/// The upstream protocol of one container's `LogHub`, as pure transitions: events in, actions
/// out (in the style of swift-websocket's `WebSocketStateMachine`). The hub performs the actions
/// (engine requests, timers, fan-out); this type decides, and is tested without sockets.
///
/// A container's life as the hub follows it:
///
///     idle ─subscribe→ inspecting(attach) ─→ streaming(history) ─end→ streaming(follow)
///       streaming(follow) ─end→ inspecting(afterEnd) ─→ [awaitingEvents(deadline)] ─→ streaming(tailReread)
///       streaming(tailReread) ─end→ streaming(follow) (same or new run) | stopped (exited or restarting)
///       stopped ─start event / recheck→ inspecting(afterStart) ─→ streaming(follow)
///       any engine failure → waitingRetry(attempt) ─timer / engine back→ inspecting(attach)
///       404 or destroy → removed;  last subscriber gone for the linger time → closed
///
/// Every state that waits has a deadline: engine calls time out in `DockerClient`; `waitingRetry`
/// and `stopped` while the engine says "restarting" carry a timer; linger has one. `stopped` of a
/// container that exited waits for its `start` event, which is the only thing that can change it.
///
/// Lifecycle markers (`end`, `restart`) come from the engine's `die` and `start` events, each
/// stamped with the engine's time, so the fan-out can place them between the lines of two runs
/// even when both arrive on one stream. Events travel on another connection than the log, so
/// when a run's stream ends the machine first asks the engine (inspect) what happened, then
/// waits, with a deadline, until the events that explain it have arrived (the events stream is
/// ordered: the latest `start` implies every earlier event), and only then re-reads the tail,
/// bounded by the next run's start. A run whose events never come (an events outage) gets its
/// markers from the inspect when the deadline passes. A crash loop costs a bounded number of engine
/// requests per restart: `restarting` is not running, so the hub waits for `start` (or a
/// backed-off recheck) instead of re-following at once.
struct LogUpstreamStateMachine: Sendable, Equatable {
    /// What an inspect tells the machine.
    /// The container was created and has never run: no `end` for it, and its first start is
    /// not a `restart`.
    private(set) var neverStarted = false

    struct Snapshot: Sendable, Equatable {
        /// `State.Running` and not `State.Restarting` (the engine reports a restarting container as running).
        var running: Bool
        var restarting: Bool
        /// `State.StartedAt` in nanoseconds (nil when never started or unparseable).
        var startedAt: Int64?
        var exitCode: Int
        /// `State.FinishedAt` in nanoseconds: when the last run ended.
        var finishedAt: Int64? = nil
    }

    enum Failure: Error, Sendable, Equatable {
        case notFound
        case engine(String)
    }

    enum StreamKind: Sendable, Equatable {
        /// `follow=0`, the last ring-size entries: the ring for new subscribers.
        case history
        /// `follow=1` from the current position.
        case follow
        /// `follow=0` from the current position up to `until` (the next run's start, when one
        /// began): the engine may leave out a last line without a newline when a followed stream ends.
        case tailReread(until: Int64?)
    }

    enum InspectPurpose: Sendable, Equatable {
        /// Attaching: the first time (`first`: no position yet) or after an engine failure.
        case attach(first: Bool)
        /// The stream of a run ended: running again (a restart raced us) or stopped?
        case afterEnd
        /// A `start` event (or a recheck while restarting): follow the new run.
        case afterStart
    }

    enum State: Sendable, Equatable {
        case idle
        case inspecting(InspectPurpose)
        case streaming(StreamKind)
        /// Waiting, until `deadline` at the latest, for the events that explain what an inspect saw.
        case awaitingEvents(EndOfRun)
        /// Not running. `recheck` is set while the engine says "restarting" (a backed-off inspect).
        case stopped(exitCode: Int, restarting: Bool)
        case waitingRetry(attempt: Int)
        case removed
        case closed
    }

    /// What an inspect after a run's stream found, and what follows the tail re-read.
    enum EndOfRun: Sendable, Equatable {
        /// Running a new run that started at `startedAt`.
        case newRun(startedAt: Int64)
        /// Still the same run (the engine ended its stream anyway).
        case sameRun
        /// Not running (`restarting`: between two runs of a restart policy).
        case stopped(exitCode: Int, finishedAt: Int64?, restarting: Bool)
    }

    enum Marker: Sendable, Equatable {
        case end(exitCode: Int, time: Int64)
        case restart(time: Int64)
    }

    enum Event: Sendable, Equatable {
        case subscribed
        case lastSubscriberLeft
        case lingerExpired(generation: Int)
        case inspected(Result<Snapshot, Failure>)
        /// The current stream ended (nil) or failed.
        case streamEnded(Failure?)
        case engineStarted(time: Int64)
        case engineDied(exitCode: Int?, time: Int64)
        case engineDestroyed
        /// The engine's events stream is back after an outage.
        case engineBack
        case timerFired(token: Int)
        /// Wall clock, for markers of runs the events missed.
        case now(Int64)
        /// The fan-out saw a line of a run no event announced yet (stamped after the last end)
        /// and put a `restart` before it.
        case restartSeenInLog(time: Int64)
    }

    enum Action: Sendable, Equatable {
        case inspect
        case openStream(StreamKind)
        case closeStream
        /// The history is in the ring: serve the subscribers that waited for it.
        case serveWaiting
        case marker(Marker)
        /// Every marker queued so far may go out now (all lines before them were delivered).
        case flushMarkers
        /// A new run is about to be followed: the markers up to its `restart` go out now; an
        /// `end` after it (the new run already died) waits for that run's lines.
        case flushMarkersThroughRestart
        /// Tell subscribers (once per outage) that the engine is lost and being retried.
        case announceEngineLost(String)
        case scheduleTimer(after: Double, token: Int)
        case scheduleLinger(after: Double, generation: Int)
        /// The followed stream counts as an open upstream (metrics) or not.
        case upstreamOpen(Bool)
        /// The container is gone: tell every subscriber and leave the registry.
        case removed
        /// No subscriber for the linger time: close and leave the registry.
        case shutDown
    }

    private(set) var state = State.idle
    private(set) var hasSubscribers = false
    /// A position exists: later attaches resume instead of reloading history.
    private(set) var hasPosition = false
    private var lingerGeneration = 0
    private var timerToken = 0
    private var retryAttempt = 0
    private var announcedOutage = false
    /// Start time of the run being shown (from inspect).
    private var runStartedAt: Int64?
    /// An `end` marker went out for the current run.
    private var runEnded = false
    private var lastExitCode: Int?
    private var lastStartEventTime: Int64?
    private var lastDieEventTime: Int64?
    /// Consecutive follows of one run that ended while it kept running (a flapping stream).
    private var followRestarts = 0
    private var restartRecheckAttempt = 0
    /// A `start` event came while a stream or an inspect was in flight.
    private var startPending = false
    /// The followed stream is counted as an open upstream (metrics); kept, not derived, so
    /// every `upstreamOpen(true)` has exactly one `upstreamOpen(false)`.
    private var upstreamCounted = false
    /// The run shown was announced by its own `start` event (not only by an inspect or a line):
    /// when it was not, its late `start` event is recognised and adds no second marker.
    private var runAnnounced = true
    /// What to do once the tail re-read ends.
    private var afterReread = EndOfRun.sameRun
    /// How long to wait for the events that explain an inspect.
    static let eventWait = 2.0
    /// How long after a run's `FinishedAt` its last lines may still be stamped (nanoseconds).
    static let runEndMargin: Int64 = 100_000_000
    /// A `start` event this soon after a run's start (nanoseconds) announces that run.
    static let lateStartWindow: Int64 = 10_000_000_000
    var linger: Double
    var now: Int64 = 0

    init(linger: Double) {
        self.linger = linger
    }

    /// Backoff of engine retries: 0.5 s doubling to 10 s.
    static func retryDelay(attempt: Int) -> Double { min(0.5 * Double(1 << min(attempt, 5)), 10) }
    /// Rechecks of a container the engine reports as restarting: 1 s doubling to 30 s.
    static func recheckDelay(attempt: Int) -> Double { min(Double(1 << min(attempt, 5)), 30) }

    mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .now(let t):
            now = t
            return []
        case .subscribed:
            hasSubscribers = true
            lingerGeneration += 1 // cancels a pending linger
            if case .idle = state {
                state = .inspecting(.attach(first: true))
                return [.inspect]
            }
            return []
        case .lastSubscriberLeft:
            hasSubscribers = false
            lingerGeneration += 1
            if case .closed = state { return [] }
            if case .removed = state { return [] }
            return [.scheduleLinger(after: linger, generation: lingerGeneration)]
        case .lingerExpired(let generation):
            guard generation == lingerGeneration, !hasSubscribers else { return [] }
            switch state {
            case .closed, .removed: return []
            default:
                state = .closed
                return countUpstream(false) + [.closeStream, .shutDown]
            }
        case .engineDestroyed:
            return remove()
        case .engineDied(let code, let time):
            // An event seen twice (a reconnect with `since` repeats the boundary) counts once;
            // a late one about an older run than the one shown is ignored.
            guard isActive, time > (lastDieEventTime ?? Int64.min), time >= (runStartedAt ?? Int64.min) else { return [] }
            lastDieEventTime = time
            lastExitCode = code ?? lastExitCode
            guard !runEnded else { return eventArrived() }
            runEnded = true
            return [.marker(.end(exitCode: code ?? 0, time: time))] + eventArrived()
        case .engineStarted(let time):
            guard isActive, time > (lastStartEventTime ?? Int64.min) else { return [] }
            if neverStarted {
                // A created container's first start: nothing ended, nothing restarts.
                neverStarted = false
                runAnnounced = true
                lastStartEventTime = time
                runEnded = false
                startPending = true
                var actions: [Action] = []
                if case .stopped = state {
                    state = .inspecting(.afterStart)
                    actions.append(.inspect)
                }
                return actions + eventArrived()
            }
            // (Its time may lie a little before a run seen in a line, or after one seen by inspect.)
            if !runAnnounced, !runEnded, let shown = runStartedAt, time > shown - Self.lateStartWindow, time < shown + Self.lateStartWindow {
                // The late `start` of the run already shown (from an inspect or a line): no marker.
                runAnnounced = true
                lastStartEventTime = time
                return eventArrived()
            }
            runAnnounced = true
            lastStartEventTime = time
            var actions: [Action] = []
            if !runEnded { actions.append(.marker(.end(exitCode: lastExitCode ?? 0, time: time))) }
            actions.append(.marker(.restart(time: time)))
            runEnded = false
            followRestarts = 0
            // An inspect in flight may predate this start: it must not stop the new run.
            startPending = true
            if case .stopped = state {
                state = .inspecting(.afterStart)
                actions.append(.inspect)
            }
            return actions + eventArrived()
        case .restartSeenInLog(let time):
            // Never from a stamp in the future: a line cannot silence the events to come.
            guard isActive, time <= now + Self.lateStartWindow else { return [] }
            runStartedAt = max(runStartedAt ?? time, time)
            runEnded = false
            runAnnounced = false
            return []
        case .engineBack:
            switch state {
            case .waitingRetry:
                retryAttempt = 0
                state = .inspecting(.attach(first: !hasPosition))
                return [.inspect]
            case .stopped:
                // Its events were lost meanwhile: it may have started again.
                state = .inspecting(.afterStart)
                return [.inspect]
            default:
                return []
            }
        case .timerFired(let token):
            guard token == timerToken else { return [] }
            switch state {
            case .waitingRetry:
                state = .inspecting(.attach(first: !hasPosition))
                return [.inspect]
            case .stopped(_, restarting: true):
                state = .inspecting(.afterStart)
                return [.inspect]
            case .awaitingEvents(let end):
                // The events did not come (an events outage): the inspect's word is enough.
                return reread(end, synthesize: true)
            default:
                return []
            }
        case .inspected(.failure(.notFound)), .streamEnded(.notFound?):
            return remove()
        case .inspected(.failure(.engine(let why))), .streamEnded(.engine(let why)?):
            guard isActive else { return [] }
            return engineFailed(why)
        case .inspected(.success(let snap)):
            return inspected(snap)
        case .streamEnded(nil):
            return streamEnded()
        }
    }

    // MARK: transitions

    private var isActive: Bool {
        switch state {
        case .idle, .removed, .closed: return false
        default: return true
        }
    }

    private mutating func countUpstream(_ open: Bool) -> [Action] {
        guard upstreamCounted != open else { return [] }
        upstreamCounted = open
        return [.upstreamOpen(open)]
    }

    private mutating func remove() -> [Action] {
        switch state {
        case .removed, .closed: return []
        default:
            state = .removed
            return countUpstream(false) + [.closeStream, .removed]
        }
    }

    private mutating func engineFailed(_ why: String) -> [Action] {
        var actions: [Action] = countUpstream(false)
        if case .streaming = state { actions.append(.closeStream) }
        if !announcedOutage {
            announcedOutage = true
            actions.append(.announceEngineLost(why))
        }
        timerToken += 1
        actions.append(.scheduleTimer(after: Self.retryDelay(attempt: retryAttempt), token: timerToken))
        state = .waitingRetry(attempt: retryAttempt)
        retryAttempt += 1
        return actions
    }

    private mutating func follow() -> [Action] {
        startPending = false
        state = .streaming(.follow)
        return countUpstream(true) + [.openStream(.follow)]
    }

    private mutating func inspected(_ snap: Snapshot) -> [Action] {
        guard case .inspecting(let purpose) = state else { return [] }
        // Created and never started (StartedAt is the zero time): no run to end yet.
        if snap.startedAt == nil && !snap.running && !snap.restarting && runStartedAt == nil && lastStartEventTime == nil {
            neverStarted = true
        } else if snap.startedAt != nil || snap.running {
            neverStarted = false
        }
        retryAttempt = 0
        announcedOutage = false
        var actions: [Action] = []
        // A run the events did not announce (an outage): its markers come from the inspect.
        var newRun = false
        if let started = snap.startedAt, let shown = runStartedAt, started > shown {
            newRun = true
            followRestarts = 0
            if purpose != .afterEnd && (lastStartEventTime ?? Int64.min) < started {
                // Attaching again after an outage, or a recheck: no stream is in between, so the
                // run the events missed gets its markers now.
                if !runEnded { actions.append(.marker(.end(exitCode: lastExitCode ?? 0, time: started))) }
                actions.append(.marker(.restart(time: started)))
                runEnded = false
                runAnnounced = false
            }
        }
        if purpose != .afterEnd, let started = snap.startedAt { runStartedAt = max(runStartedAt ?? started, started) }
        switch purpose {
        case .attach(let first):
            if first {
                state = .streaming(.history)
                return actions + [.openStream(.history)]
            }
            return actions + follow()
        case .afterStart:
            if snap.running || startPending || newRun { return actions + [.flushMarkersThroughRestart] + follow() }
            // A recheck while restarting (or after an outage) found no new run: keep waiting.
            state = .stopped(exitCode: snap.exitCode, restarting: snap.restarting)
            actions += countUpstream(false) + [.flushMarkers]
            if snap.restarting {
                timerToken += 1
                actions.append(.scheduleTimer(after: Self.recheckDelay(attempt: restartRecheckAttempt), token: timerToken))
                restartRecheckAttempt += 1
            }
            return actions
        case .afterEnd:
            let end: EndOfRun
            if newRun, let started = snap.startedAt {
                end = .newRun(startedAt: started)
            } else if snap.running || startPending {
                end = .sameRun
            } else {
                end = .stopped(exitCode: snap.exitCode, finishedAt: snap.finishedAt, restarting: snap.restarting)
            }
            if eventsExplain(end) { return actions + reread(end, synthesize: false) }
            state = .awaitingEvents(end)
            timerToken += 1
            return actions + [.scheduleTimer(after: Self.eventWait, token: timerToken)]
        }
    }

    /// Whether the events received so far account for what the inspect saw.
    private func eventsExplain(_ end: EndOfRun) -> Bool {
        switch end {
        case .sameRun: return true
        // The engine sends `start` after setting StartedAt: an event at or after it is this run's.
        case .newRun(let started): return (lastStartEventTime ?? Int64.min) >= started
        case .stopped: return runEnded
        }
    }

    /// An event arrived: if the machine was waiting for it, go on.
    private mutating func eventArrived() -> [Action] {
        guard case .awaitingEvents(let end) = state else { return [] }
        if case .stopped = end, startPending, let started = lastStartEventTime {
            // Waiting for the end of a run, its next run's `start` came: re-read up to it, follow it.
            return reread(.newRun(startedAt: started), synthesize: false)
        }
        guard eventsExplain(end) else { return [] }
        return reread(end, synthesize: false)
    }

    /// Re-reads the tail of the ended stream, bounded by the next run's start; `synthesize`
    /// makes the markers the events did not bring.
    private mutating func reread(_ end: EndOfRun, synthesize: Bool) -> [Action] {
        var actions: [Action] = []
        var until: Int64?
        switch end {
        case .newRun(let started):
            if synthesize || (lastStartEventTime ?? Int64.min) < started {
                if !runEnded { actions.append(.marker(.end(exitCode: lastExitCode ?? 0, time: started))) }
                actions.append(.marker(.restart(time: started)))
                runAnnounced = false
            }
            runEnded = false
            runStartedAt = max(runStartedAt ?? started, started)
            until = started - 1
        case .stopped(let code, let finishedAt, _):
            if !runEnded {
                runEnded = true
                if !neverStarted { actions.append(.marker(.end(exitCode: lastExitCode ?? code, time: finishedAt ?? now))) }
            }
            // Whatever is stamped after the run ended belongs to a later run, whose `start` may
            // not have arrived yet: its lines come with the next follow, after its marker. The
            // copier may stamp a dying run's last lines a moment after its end (its pipe drains),
            // and a restart takes longer than that.
            until = finishedAt.map { min($0 + Self.runEndMargin, now) } ?? now
        case .sameRun:
            break
        }
        afterReread = end
        state = .streaming(.tailReread(until: until))
        return actions + [.openStream(.tailReread(until: until))]
    }

    /// The ended run's tail is delivered: follow the run that is going on, or stop.
    private mutating func afterTailReread() -> [Action] {
        switch afterReread {
        case .newRun:
            return [.flushMarkersThroughRestart] + follow()
        case .sameRun:
            // The engine ended the stream of a run that goes on: follow again, backing off if
            // that keeps happening.
            followRestarts += 1
            if followRestarts > 3 {
                timerToken += 1
                state = .stopped(exitCode: 0, restarting: true)
                let delay = Self.recheckDelay(attempt: restartRecheckAttempt)
                restartRecheckAttempt += 1
                followRestarts = 0
                return countUpstream(false) + [.flushMarkers, .scheduleTimer(after: delay, token: timerToken)]
            }
            return [.flushMarkersThroughRestart] + follow()
        case .stopped(let code, _, let restarting):
            if startPending {
                // It started again while its tail was read: follow the new run.
                state = .inspecting(.afterStart)
                return [.inspect]
            }
            lastExitCode = nil
            state = .stopped(exitCode: code, restarting: restarting)
            var actions: [Action] = countUpstream(false) + [.flushMarkers]
            if restarting {
                timerToken += 1
                actions.append(.scheduleTimer(after: Self.recheckDelay(attempt: restartRecheckAttempt), token: timerToken))
                restartRecheckAttempt += 1
            } else {
                restartRecheckAttempt = 0
            }
            return actions
        }
    }

    private mutating func streamEnded() -> [Action] {
        retryAttempt = 0
        announcedOutage = false
        switch state {
        case .streaming(.history):
            hasPosition = true
            state = .streaming(.follow)
            return [.serveWaiting] + countUpstream(true) + [.openStream(.follow)]
        case .streaming(.follow):
            hasPosition = true
            state = .inspecting(.afterEnd)
            return [.inspect]
        case .streaming(.tailReread):
            return afterTailReread()
        default:
            return []
        }
    }
}
