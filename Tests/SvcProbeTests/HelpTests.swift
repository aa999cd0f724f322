import Foundation
import TestSupport
import Testing

/// `svcprobe --help` as a reader sees it: swift-argument-parser re-wraps the discussion to the terminal's
/// width, so text hand-wrapped wider than 80 columns comes out ragged on a standard terminal.
@Suite("svcprobe --help")
struct HelpTests {
    static func help(columns: Int) throws -> [String] {
        try HelpText.lines(try Support.svcprobe(), columns: columns)
    }

    @Test func fitsEightyColumnsWithoutRewrapping() throws {
        let standard = try Self.help(columns: 80)
        for line in standard { #expect(line.count <= 80, "\(line.count) columns: \(line)") }
        // Wrapped by hand within 78 columns, the discussion is the same on a wide terminal: the parser did
        // not have to re-wrap (and so split) any line on an 80-column one.
        let wide = try Self.help(columns: 200)
        let discussion = HelpText.discussion(standard)
        #expect(discussion.count > 40)
        #expect(discussion == HelpText.discussion(wide))
    }

    @Test func keyContentIsPresent() throws {
        let text = try Self.help(columns: 80).joined(separator: "\n")
        for needle in [
            "WHAT THE PROBE SENDS", "HandshakeResponse41", "EMPTY password", "COM_QUIT", "max_connect_errors",
            "--close-after-greeting", "TLS (--tls)", "SSLRequest", "unverified", "--tls-verify", "tls=not-offered",
            "EXIT STATUS", "Examples:", "svcprobe 198.51.100.20 --tls -v", "cert_not_after", "tls_cipher",
        ] {
            #expect(text.contains(needle), "--help lacks \(needle)")
        }
        // Every outcome and every exit code is explained.
        for outcome in ["greeting", "error", "banner", "silent", "closed/reset", "refused", "timeout", "unreachable",
            "unresolved"]
        {
            #expect(text.contains("\n  \(outcome) "), "outcome \(outcome)")
        }
        for code in ["0", "1", "2", "64", "10", "11", "12", "13", "14"] {
            #expect(text.contains("\n  \(code) "), "exit status \(code)")
        }
    }
}
