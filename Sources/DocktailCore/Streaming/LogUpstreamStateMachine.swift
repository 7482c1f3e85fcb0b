/// The upstream protocol of one container's `LogHub`, as pure transitions: events in, actions
/// out (in the style of swift-websocket's `WebSocketStateMachine`). The hub performs the actions
/// (engine requests, timers, fan-out); this type decides, and is tested without sockets.
///
/// A container's life as the hub follows it:
///
///     idle ─subscribe→ inspecting(attach) ─→ streaming(history) ─end→ streaming(follow)
///       streaming(follow) ─end→ streaming(tailReread) ─end→ inspecting(afterEnd)
///       inspecting(afterEnd) ─running, new run→ streaming(follow)
///                           ─stopped or restarting→ stopped ─start event / recheck→ inspecting(afterStart) ─→ streaming(follow)
///       any engine failure → waitingRetry(attempt) ─timer / engine back→ inspecting(attach)
///       404 or destroy → removed;  last subscriber gone for the linger time → closed
///
/// Every state that waits has a deadline: engine calls time out in `DockerClient`; `waitingRetry`
/// and `stopped` while the engine says "restarting" carry a timer; linger has one. `stopped` of a
/// container that exited waits for its `start` event, which is the only thing that can change it.
///
/// Lifecycle markers (`end`, `restart`) come from the engine's `die` and `start` events, each
/// stamped with the engine's time, so the fan-out can place them between the lines of two runs
/// even when both arrive on one stream. A run whose events were missed (an events outage) gets
/// its markers from the inspect that reveals it. A crash loop costs a bounded number of engine
/// requests per restart: `restarting` is not running, so the hub waits for `start` (or a
/// backed-off recheck) instead of re-following at once.
struct LogUpstreamStateMachine: Sendable, Equatable {
    /// What an inspect tells the machine.
    struct Snapshot: Sendable, Equatable {
        /// `State.Running` and not `State.Restarting` (the engine reports a restarting container as running).
        var running: Bool
        var restarting: Bool
        /// `State.StartedAt` in nanoseconds (nil when never started or unparseable).
        var startedAt: Int64?
        var exitCode: Int
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
        /// `follow=0` from the current position: the engine may leave out a last line without a
        /// newline when a followed stream ends.
        case tailReread
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
        /// Not running. `recheck` is set while the engine says "restarting" (a backed-off inspect).
        case stopped(exitCode: Int, restarting: Bool)
        case waitingRetry(attempt: Int)
        case removed
        case closed
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
                let wasOpen = isUpstreamOpen
                state = .closed
                return (wasOpen ? [.upstreamOpen(false)] : []) + [.closeStream, .shutDown]
            }
        case .engineDestroyed:
            return remove()
        case .engineDied(let code, let time):
            // An event seen twice (a reconnect with `since` repeats the boundary) counts once.
            guard isActive, time > (lastDieEventTime ?? Int64.min) else { return [] }
            lastDieEventTime = time
            lastExitCode = code ?? lastExitCode
            guard !runEnded else { return [] }
            runEnded = true
            return [.marker(.end(exitCode: code ?? 0, time: time))]
        case .engineStarted(let time):
            guard isActive, time > (lastStartEventTime ?? Int64.min) else { return [] }
            lastStartEventTime = time
            var actions: [Action] = []
            if !runEnded { actions.append(.marker(.end(exitCode: lastExitCode ?? 0, time: time))) }
            actions.append(.marker(.restart(time: time)))
            runEnded = false
            runStartedAt = time
            followRestarts = 0
            if case .stopped = state {
                state = .inspecting(.afterStart)
                actions.append(.inspect)
            } else {
                // An inspect in flight may predate this start: it must not stop the new run.
                startPending = true
            }
            return actions
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

    private var isUpstreamOpen: Bool {
        if case .streaming(.follow) = state { return true }
        if case .streaming(.tailReread) = state { return true }
        return false
    }

    private mutating func remove() -> [Action] {
        switch state {
        case .removed, .closed: return []
        default:
            let wasOpen = isUpstreamOpen
            state = .removed
            return (wasOpen ? [.upstreamOpen(false)] : []) + [.closeStream, .removed]
        }
    }

    private mutating func engineFailed(_ why: String) -> [Action] {
        let wasOpen = isUpstreamOpen
        var actions: [Action] = wasOpen ? [.upstreamOpen(false)] : []
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
        let wasOpen = isUpstreamOpen
        state = .streaming(.follow)
        return (wasOpen ? [] : [.upstreamOpen(true)]) + [.openStream(.follow)]
    }

    private mutating func inspected(_ snap: Snapshot) -> [Action] {
        guard case .inspecting(let purpose) = state else { return [] }
        retryAttempt = 0
        announcedOutage = false
        var actions: [Action] = []
        // A run the events did not announce (an outage): its markers come from the inspect.
        if let started = snap.startedAt, let shown = runStartedAt, started > shown,
           lastStartEventTime.map({ started > $0 + 1_000_000_000 }) ?? true {
            if !runEnded { actions.append(.marker(.end(exitCode: lastExitCode ?? 0, time: started))) }
            actions.append(.marker(.restart(time: started)))
            runEnded = false
            followRestarts = 0
        }
        if let started = snap.startedAt { runStartedAt = max(runStartedAt ?? started, started) }
        switch purpose {
        case .attach(let first):
            if first {
                state = .streaming(.history)
                return actions + [.openStream(.history)]
            }
            return actions + follow()
        case .afterStart:
            return actions + [.flushMarkers] + follow()
        case .afterEnd:
            if snap.running || startPending {
                // Running: a new run (markers above or from events), or the same run whose
                // stream the engine ended: follow again, backing off if that keeps happening.
                followRestarts += 1
                if followRestarts > 3 {
                    timerToken += 1
                    state = .stopped(exitCode: snap.exitCode, restarting: true)
                    let delay = Self.recheckDelay(attempt: restartRecheckAttempt)
                    restartRecheckAttempt += 1
                    followRestarts = 0
                    return actions + [.upstreamOpen(false), .flushMarkers, .scheduleTimer(after: delay, token: timerToken)]
                }
                return actions + [.flushMarkers] + follow()
            }
            // Stopped, or restarting (a crash loop): not running. Wait for `start`.
            if !runEnded {
                runEnded = true
                actions.append(.marker(.end(exitCode: lastExitCode ?? snap.exitCode, time: now)))
            }
            lastExitCode = nil
            state = .stopped(exitCode: snap.exitCode, restarting: snap.restarting)
            actions += [.upstreamOpen(false), .flushMarkers]
            if snap.restarting {
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
            return [.serveWaiting, .upstreamOpen(true), .openStream(.follow)]
        case .streaming(.follow):
            hasPosition = true
            state = .streaming(.tailReread)
            return [.openStream(.tailReread)]
        case .streaming(.tailReread):
            state = .inspecting(.afterEnd)
            return [.inspect]
        default:
            return []
        }
    }
}
