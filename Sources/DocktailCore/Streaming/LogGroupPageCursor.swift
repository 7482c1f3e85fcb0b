/// Where the next page of a group's history (`GET /api/groups/{kind}/{name}/logs`) ends: one
/// `LogPageCursor` per member, or "done" for a member whose first line was paged.
///
/// Members are named `HOST/ID16` (engine name and the first 16 hex digits of the container id).
/// A member missing from a cursor started after the first page: all its lines are newer, it
/// takes no part. On the wire: base64url of `g1|MEMBER=STDOUT,STDERR,HINT|MEMBER=-|…` (bounds as
/// in `LogPageCursor`), decoded strictly (range checks, canonical form), at most
/// `maxEncodedLength` characters, so a group page cursor fits a request line.
public struct LogGroupPageCursor: Sendable, Equatable {
    /// nil: the member's whole log was paged.
    public var members: [String: LogPageCursor?]

    public init(members: [String: LogPageCursor?]) { self.members = members }

    public static let maxEncodedLength = 6 * 1024
    /// Most members a paged group may have (each takes up to ~80 characters of the cursor).
    public static let maxMembers = 48

    static func memberKey(host: String, id: String) -> String { host + "/" + String(id.prefix(16)) }

    var text: String {
        var parts = ["g1"]
        for key in members.keys.sorted() {
            if let c = members[key]!.flatMap({ $0 }) {
                parts.append("\(key)=\(LogPageCursor.text(c.stdout)),\(LogPageCursor.text(c.stderr)),\(c.hint)")
            } else {
                parts.append("\(key)=-")
            }
        }
        return parts.joined(separator: "|")
    }

    public var encoded: String { LogPageCursor.base64URL(Array(text.utf8)) }

    public static func decode(_ encoded: String) throws(LogPageCursor.Invalid) -> LogGroupPageCursor {
        let input = Array(encoded.utf8)
        guard !input.isEmpty, input.count <= maxEncodedLength else { throw .init(message: "cursor is empty or too long") }
        guard let raw = LogPageCursor.fromBase64URL(input), let text = String(validatingUTF8Bytes: raw) else {
            throw .init(message: "cursor is not base64url")
        }
        let fields = text.split(separator: "|", omittingEmptySubsequences: false)
        guard fields.first == "g1", fields.count - 1 <= maxMembers else { throw .init(message: "cursor has an unknown version or form") }
        var members: [String: LogPageCursor?] = [:]
        for field in fields.dropFirst() {
            guard let eq = field.lastIndex(of: "=") else { throw .init(message: "cursor names no member") }
            let key = String(field[..<eq])
            let value = field[field.index(after: eq)...]
            guard !key.isEmpty, key.utf8.count <= 300, members[key] == nil else { throw .init(message: "cursor holds an invalid member") }
            if value == "-" { members[key] = .some(nil); continue }
            let parts = value.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 3, let out = LogPageCursor.bound(parts[0]), let err = LogPageCursor.bound(parts[1]),
                  let hint = LogPageCursor.decimal(parts[2]), hint <= Int64(LogPageCursor.maxHint) else {
                throw .init(message: "cursor holds an invalid position")
            }
            members[key] = LogPageCursor(stdout: out, stderr: err, hint: Int(hint))
        }
        let cursor = LogGroupPageCursor(members: members)
        guard cursor.text == text else { throw .init(message: "cursor is not in canonical form") }
        return cursor
    }
}
