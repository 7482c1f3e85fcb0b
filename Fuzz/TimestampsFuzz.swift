// libFuzzer target `timestamps`: DockerTimestamp.parse on arbitrary bytes, and LogQuery's time and
// duration parsers on arbitrary strings, must never trap. A parsed timestamp must format back to
// text that parses to the same value, and its engine parameter must be `SECONDS.NNNNNNNNN` for
// that value when it is not before the epoch.

func fuzzTimestamps(_ bytes: [UInt8]) {
    let raw = bytes.withUnsafeBytes { DockerTimestamp.parse($0) }
    let text = String(decoding: bytes, as: UTF8.self)
    let fromString = DockerTimestamp.parse(text)
    if UTF8Validator.isValid(bytes) { precondition(raw == fromString, "bytes and String parse differ") }

    if let v = raw {
        let formatted = DockerTimestamp.format(v)
        precondition(DockerTimestamp.parse(formatted) == v, "format(\(v)) = \(formatted) does not parse back")
        precondition(formatted.utf8.count == 30, "format(\(v)) = \(formatted) is not YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ")
        let engine = DockerTimestamp.engineParameter(v)
        if v >= 0 {
            let parts = engine.split(separator: ".", omittingEmptySubsequences: false)
            precondition(parts.count == 2 && parts[1].utf8.count == 9
                         && parts.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
                         && Int64(parts[0])! * 1_000_000_000 + Int64(parts[1])! == v,
                         "engineParameter(\(v)) = \(engine)")
        }
    }

    // A fixed "now" (2026-05-28) keeps runs reproducible.
    let now = Timestamp(nanoseconds: 1_780_000_000_000_000_000)!
    if let t = LogQuery.parseTime(text, now: now) {
        precondition(Timestamp.range.contains(t.nanoseconds), "parseTime out of range: \(t.nanoseconds) from \(text)")
        _ = t.engineParameter
    }
    if let d = LogQuery.parseDuration(text) {
        precondition(d >= 0 && d <= TimeSpan.maximum, "duration out of range \(d) from \(text)")
    }
    // Any Int64 (the engine's event times, say) formats without trapping.
    if bytes.count >= 8 {
        let v = bytes.withUnsafeBytes { $0.loadUnaligned(as: Int64.self) }
        _ = DockerTimestamp.format(v)
        precondition(!DockerTimestamp.engineParameter(v).contains("-"), "negative engine parameter")
    }
}
