import Foundation

/// A WebSocket client of `/events`: container lifecycle events from every engine.
final class EventsSubscription: WebSocketHandler, @unchecked Sendable {
    // Invariant: `ws` is confined to `loop.queue`.
    let loop: EventLoop
    private weak var ws: WebSocketConnection?
    private let broadcaster: EventBroadcaster

    init(loop: EventLoop, broadcaster: EventBroadcaster) {
        self.loop = loop
        self.broadcaster = broadcaster
    }

    func webSocketDidOpen(_ connection: WebSocketConnection) {
        ws = connection
        broadcaster.add(self)
    }

    func webSocketDidClose(_ connection: WebSocketConnection) {
        broadcaster.remove(self)
    }

    func send(_ frame: [UInt8]) {
        ws?.send(encodedFrames: frame)
    }
}

/// The set of `/events` subscribers; an event is encoded once and sent to all.
final class EventBroadcaster: @unchecked Sendable {
    // Invariant: `subscribers` is guarded by `lock`.
    private let lock = NSLock()
    private var subscribers: [ObjectIdentifier: EventsSubscription] = [:]

    func add(_ s: EventsSubscription) { lock.lock(); subscribers[ObjectIdentifier(s)] = s; lock.unlock() }
    func remove(_ s: EventsSubscription) { lock.lock(); subscribers.removeValue(forKey: ObjectIdentifier(s)); lock.unlock() }

    func publish(_ event: JSONValue) {
        let frame = WebSocketFrameEncoder.encode(opcode: .text, payload: event.encoded())
        lock.lock()
        let subs = Array(subscribers.values)
        lock.unlock()
        for s in subs { s.loop.execute { s.send(frame) } }
    }
}
