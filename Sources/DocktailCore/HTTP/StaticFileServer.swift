import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Serves files below one root folder (`Public/`). Paths are percent-decoded and normalised
/// before the containment check; `..`, hidden files, NUL bytes and symlinks that leave the root
/// never reach a file outside it. Disk reads run off the loop, results are cached by mtime.
public final class StaticFileServer: @unchecked Sendable {
    // Invariant: `cache` is only touched under `lock`.
    public let root: String
    private let rootReal: String
    private var cache: [String: CachedFile] = [:]
    private let lock = NSLock()
    private let io = DispatchQueue(label: "docktail.files", attributes: .concurrent)
    /// Headers added to every HTML response (Content-Security-Policy and framing rules).
    public var htmlHeaders: HTTPHeaders = HTTPHeaders()

    struct CachedFile {
        let body: [UInt8]
        let mtimeNanos: Int64
        let size: Int
        let etag: String
        let lastModified: String
    }

    public init(root: String) {
        self.root = root
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX))
        if realpath(root, &buf) != nil {
            rootReal = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        } else {
            rootReal = root
        }
    }

    public static func contentType(forExtension ext: String) -> String {
        switch ext.lowercased() {
        case "html", "htm": return "text/html; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "json": return "application/json"
        case "ico": return "image/x-icon"
        case "txt", "log": return "text/plain; charset=utf-8"
        case "woff2": return "font/woff2"
        default: return "application/octet-stream"
        }
    }

    /// The file path for decoded `segments`, or nil when they try to leave the root or name a
    /// hidden file.
    public func resolve(segments: [String]) -> String? {
        var parts: [String] = []
        for s in segments {
            if s == "." { continue }
            if s == ".." || s.hasPrefix(".") || s.contains("\0") || s.contains("/") { return nil }
            parts.append(s)
        }
        return root + "/" + parts.joined(separator: "/")
    }

    /// Serves `segments` (index.html for a folder). Calls `done` on `loop`.
    public func serve(segments: [String], request: HTTPRequest, loop: EventLoop, done: @escaping @Sendable (HTTPResponse) -> Void) {
        guard let path = resolve(segments: segments) else {
            done(.error(404, "not found"))
            return
        }
        io.async { [self] in
            let response = self.load(path: path, request: request)
            loop.execute { done(response) }
        }
    }

    /// Loads (or reuses) a file and builds the response, honouring conditional requests
    /// (RFC 9110 §13.1.2 If-None-Match before §13.1.3 If-Modified-Since).
    func load(path: String, request: HTTPRequest) -> HTTPResponse {
        var path = path
        var st = stat()
        guard stat(path, &st) == 0 else { return .error(404, "not found") }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            path += path.hasSuffix("/") ? "index.html" : "/index.html"
            guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return .error(404, "not found") }
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return .error(404, "not found") }
        // Symlinks may point anywhere: the real path must stay inside the real root.
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX))
        guard realpath(path, &buf) != nil else { return .error(404, "not found") }
        let real = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard real.hasPrefix(rootReal + "/") else { return .error(404, "not found") }

        let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        let size = Int(st.st_size)
        lock.lock()
        var file = cache[real]
        lock.unlock()
        if file == nil || file!.mtimeNanos != mtime || file!.size != size {
            guard let data = FileManager.default.contents(atPath: real) else { return .error(404, "not found") }
            let f = CachedFile(body: [UInt8](data), mtimeNanos: mtime, size: size,
                               etag: "\"\(String(size, radix: 16))-\(String(mtime, radix: 16))\"",
                               lastModified: HTTPDate.format(Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec))))
            lock.lock()
            cache[real] = f
            lock.unlock()
            file = f
        }
        let f = file!
        var headers = HTTPHeaders()
        let ext = (real as NSString).pathExtension
        let type = Self.contentType(forExtension: ext)
        headers.add("Content-Type", type)
        headers.add("Cache-Control", "no-cache")
        headers.add("ETag", f.etag)
        headers.add("Last-Modified", f.lastModified)
        headers.add("X-Content-Type-Options", "nosniff")
        if type.hasPrefix("text/html") { for (n, v) in htmlHeaders { headers.add(n, v) } }
        if let inm = request.headers["If-None-Match"] {
            let tags = inm.split(separator: ",").map { String($0.trimmingSpaces()) }
            if tags.contains(f.etag) || tags.contains("*") || tags.contains("W/" + f.etag) {
                return HTTPResponse(status: 304, headers: headers)
            }
        } else if let ims = request.headers["If-Modified-Since"], let date = HTTPDate.parse(ims),
                  Int(date.timeIntervalSince1970) >= Int(st.st_mtim.tv_sec) {
            return HTTPResponse(status: 304, headers: headers)
        }
        return HTTPResponse(status: 200, headers: headers, body: f.body)
    }
}
