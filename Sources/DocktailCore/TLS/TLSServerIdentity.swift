import Foundation

/// docktail's own certificate for its HTTPS/WSS listeners, reloadable: SIGHUP makes a new
/// context from the same files (ACME clients rotate them every few weeks). Connections already
/// open keep the context they started with (each session holds a reference); new connections
/// get the new one. A reload that fails keeps the old certificate and reports why.
public final class TLSServerIdentity: @unchecked Sendable {
    // Invariant: `current` is read and replaced under `lock`; contexts are immutable.
    public let certificatePath: String
    public let keyPath: String
    private let lock = NSLock()
    private var current: TLSContext

    public init(certificatePath: String, keyPath: String) throws(TLSError) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.current = try TLSContext.server(certificateChain: certificatePath, privateKey: keyPath)
    }

    public var context: TLSContext {
        lock.lock(); defer { lock.unlock() }
        return current
    }

    /// Reads the files again; on success new connections use them.
    public func reload() throws(TLSError) {
        let fresh = try TLSContext.server(certificateChain: certificatePath, privateKey: keyPath)
        lock.lock()
        current = fresh
        lock.unlock()
    }
}
