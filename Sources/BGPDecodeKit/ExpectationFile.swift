import PacketCore
import ToolSupport

/// Reads an `--expect-file` with bounded memory: a file larger than `maximumBytes` (say `/dev/zero`, or a
/// capture given by mistake) or with a line longer than `maximumLineLength` is refused with one sentence,
/// after reading at most `maximumBytes + 1` bytes. (Not Foundation's reader: linking Foundation costs every
/// run several milliseconds of dynamic loading, for this one read of a small file.)
public enum ExpectationFile {
    /// Far more than a list of service IPs needs (a full table of a million prefixes is about 20 MB).
    public static let maximumBytes = 32 << 20
    /// A prefix, a next hop and a comment fit many times over.
    public static let maximumLineLength = 1024

    /// The whole file as UTF-8 text, or the sentence saying why it cannot be used.
    public static func read(path: String) -> Result<String, ExpectationFileError> {
        let shown = PrintableText.escaped(path)
        let bytes: [UInt8]
        switch BoundedFile.read(path, limit: maximumBytes, requireRegular: false) {
        case .contents(let read): bytes = read
        case .missing:
            return .failure(ExpectationFileError(message: "cannot read the expect file \(shown): "
                + "no such file; check the path"))
        case .failure(let reason):
            return .failure(ExpectationFileError(message: "cannot read the expect file \(shown): \(reason)"))
        case .tooLarge:
            return .failure(ExpectationFileError(message: "the expect file \(shown) is larger than "
                + "\(maximumBytes >> 20) MiB; give a file of prefixes, one per line"))
        case .interrupted:
            return .failure(ExpectationFileError(message: "interrupted while reading the expect file \(shown)"))
        }
        var lineLength = 0
        var line = 1
        for byte in bytes {
            if byte == 0x0A {
                lineLength = 0
                line += 1
                continue
            }
            lineLength += 1
            guard lineLength <= maximumLineLength else {
                return .failure(ExpectationFileError(message: "the expect file \(shown) line \(line) is longer than "
                    + "\(maximumLineLength) bytes; give one prefix (and optionally a next hop) per line"))
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(ExpectationFileError(message: "the expect file \(shown) is not UTF-8 text; "
                + "give a file of prefixes, one per line"))
        }
        return .success(text)
    }

    /// Every expectation in the file at `path`, or the sentence saying what is wrong with it.
    public static func load(path: String) -> Result<[BGPExpectation], ExpectationFileError> {
        let text: String
        switch read(path: path) {
        case .success(let read): text = read
        case .failure(let error): return .failure(error)
        }
        switch BGPExpectation.parseFile(text) {
        case .success(let parsed): return .success(parsed)
        case .failure(let bad):
            return .failure(ExpectationFileError(message: "\(PrintableText.escaped(path)) line \(bad.number) "
                + "is not 'PREFIX [NEXTHOP]': \(PrintableText.escaped(bad.text))"))
        }
    }
}

/// Why an expect file cannot be used, as one sentence.
public struct ExpectationFileError: Error, Sendable {
    public let message: String
    public init(message: String) { self.message = message }
}
