import Foundation

/// Optional bearer tokens and container visibility rules.
public struct AccessControl: Sendable {
    public let tokens: [[UInt8]]
    public let labels: [String: String]
    public let namePatterns: [String]

    public static let cookieNamePrefix = "docktail_token"

    /// `docktail_token_PORT` for the port in the request's Host (the port the browser used).
    public static func cookieName(for request: HTTPRequest) -> String {
        if let host = request.headers["Host"], let port = HostAllowlist.hostPart(host)?.port { return "\(cookieNamePrefix)_\(port)" }
        return cookieNamePrefix
    }

    public init(tokens: [String], labels: [String: String], namePatterns: [String]) {
        self.tokens = tokens.map { Array($0.utf8) }
        self.labels = labels
        self.namePatterns = namePatterns
    }

    public var requiresToken: Bool { !tokens.isEmpty }

    /// The token a request presents: `Authorization: Bearer`, `?token=`, or the viewer's cookie.
    public static func presentedToken(_ request: HTTPRequest) -> String? {
        if let auth = request.headers["Authorization"], auth.lowercased().hasPrefix("bearer ") {
            return String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        if let t = request.query["token"] { return t }
        let name = cookieName(for: request)
        for cookieHeader in request.headers.values("Cookie") {
            for part in cookieHeader.split(separator: ";") {
                let kv = part.trimmingSpaces().split(separator: "=", maxSplits: 1)
                if kv.count == 2 && kv[0] == name { return String(kv[1]) }
            }
        }
        return nil
    }

    /// Constant-time check against every configured token (no early exit on the first byte).
    public func isValid(_ token: String?) -> Bool {
        guard let token else { return false }
        let t = Array(token.utf8)
        var ok = false
        for candidate in tokens {
            var diff = UInt8(candidate.count == t.count ? 0 : 1)
            for i in 0..<candidate.count { diff |= candidate[i] ^ (i < t.count ? t[i] : 0) }
            ok = ok || diff == 0
        }
        return ok
    }

    /// Whether a container may be shown at all.
    public func isVisible(name: String, labels containerLabels: [String: String]) -> Bool {
        for (k, v) in labels where containerLabels[k] != v { return false }
        if !namePatterns.isEmpty && !namePatterns.contains(where: { Self.glob($0, matches: name) }) { return false }
        return true
    }

    /// `*` any run, `?` one character.
    static func glob(_ pattern: String, matches text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) { pi += 1; ti += 1 }
            else if pi < p.count && p[pi] == "*" { star = pi; mark = ti; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
