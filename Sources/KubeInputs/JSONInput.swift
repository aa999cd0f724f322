import FoundationEssentials
import Synchronization

/// kubectl's JSON, read with FoundationEssentials' JSONDecoder straight into `KubeValue` (its `Decodable`
/// conformance below).
///
/// Why JSONDecoder and not a reader of our own: it handles the whole of RFC 8259 (escapes, surrogate pairs,
/// number forms, UTF-8 validation) and comes with FoundationEssentials, which the tools link anyway; full
/// Foundation (JSONSerialization) would triple garpwatch's size. Depth is bounded by a byte scan before the
/// decoder sees the input (the decoder itself refuses nesting deeper than 512 with an error, never recursing
/// without bound; the scan makes our limit the one that answers), the number of values by a budget the
/// conversion spends from, handed over in `userInfo` (`InputLimits`).
enum JSONInput {
    static func parse(_ bytes: [UInt8], file: String, limits: InputLimits) throws(KubeInputError) -> KubeValue {
        let shape = try scan(bytes, file: file, limits: limits)
        let decoder = JSONDecoder()
        decoder.userInfo[KubeValue.budgetKey] = ValueBudget(file: file, maximumValues: limits.maximumValues)
        do {
            return try decoder.decode(KubeValue.self, from: Data(bytes))
        } catch let error as KubeInputError {
            throw error
        } catch let error as DecodingError {
            // The decoder's syntax errors say neither what nor where; a cut-off file, the usual case, is said.
            let detail = describe(error)
            if detail.isEmpty && shape.endsInString {
                throw KubeInputError(file: file, problem: "is not valid JSON (it ends inside a string).")
            }
            if detail.isEmpty && shape.openAtEnd > 0 {
                throw KubeInputError(
                    file: file, problem: "is not valid JSON (it ends with \(shape.openAtEnd) lists or objects open).")
            }
            throw KubeInputError(file: file, problem: "is not valid JSON\(detail).")
        } catch {
            throw KubeInputError(file: file, problem: "is not valid JSON (\(error)).")
        }
    }

    /// Refuses nesting deeper than the limit without parsing. A value's depth is the number of lists and
    /// objects open around it (the root is at 0), so any byte of a value, outside strings, read while more
    /// than `maximumDepth` are open is one too deep; an empty list at the limit is not. Returns how the input
    /// ends, for the error when the decoder refuses it.
    static func scan(
        _ bytes: [UInt8], file: String, limits: InputLimits
    ) throws(KubeInputError) -> (openAtEnd: Int, endsInString: Bool) {
        var open = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: ","),
                UInt8(ascii: ":"):
                continue
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                open = max(0, open - 1)
                continue
            default:
                break
            }
            guard open <= limits.maximumDepth else {
                throw KubeInputError(file: file, problem: "nests lists and objects deeper than \(limits.maximumDepth).")
            }
            switch byte {
            case UInt8(ascii: "["), UInt8(ascii: "{"): open += 1
            case UInt8(ascii: "\""): inString = true
            default: break
            }
        }
        return (open, inString)
    }

    /// What the decoder says is wrong, and where when it knows (" (at items[2].spec.ports[0].port: ...)").
    /// Its message for a syntax error carries no position; it is left out rather than repeated.
    static func describe(_ error: DecodingError) -> String {
        let context: DecodingError.Context
        switch error {
        case .dataCorrupted(let found), .typeMismatch(_, let found), .valueNotFound(_, let found),
            .keyNotFound(_, let found):
            context = found
        @unknown default:
            return ""
        }
        var path = ""
        for key in context.codingPath {
            if let index = key.intValue {
                path += "[\(index)]"
            } else {
                path += path.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        var message = context.debugDescription
        while message.hasSuffix(".") { message.removeLast() }
        if message == "The given data was not valid JSON" { message = "" }
        switch (path.isEmpty, message.isEmpty) {
        case (true, true): return ""
        case (true, false): return " (\(message.prefix(200)))"
        case (false, true): return " (at \(path.prefix(200)))"
        case (false, false): return " (at \(path.prefix(200)): \(message.prefix(200)))"
        }
    }
}

/// How many more values a decoding may produce: one per `KubeValue.init(from:)`, so a file of millions of
/// tiny values is refused with a sentence. Decoding is sequential; the lock only makes it `Sendable`, as
/// `userInfo` requires.
final class ValueBudget: Sendable {
    let file: String
    let maximumValues: Int
    private let spent = Mutex(0)

    init(file: String, maximumValues: Int) {
        self.file = file
        self.maximumValues = maximumValues
    }

    func spend() throws(KubeInputError) {
        let within = spent.withLock { count in
            count += 1
            return count <= maximumValues
        }
        guard within else {
            throw KubeInputError(file: file, problem: "holds more than \(maximumValues) values.")
        }
    }
}

extension KubeValue: Decodable {
    // A fixed, valid raw value: never nil.
    static let budgetKey = CodingUserInfoKey(rawValue: "vipscope.KubeInputs.ValueBudget")!

    /// Any JSON value. `true` and `false` are booleans, never the numbers 1 and 0; a number the decoder reads
    /// exactly as an `Int` is `.integer`, any other (a fraction, beyond `Int`) `.number`. Under `JSONInput`
    /// each value spends one from the budget in `userInfo`; other decoders have none and no such limit.
    public init(from decoder: any Decoder) throws {
        if let budget = decoder.userInfo[Self.budgetKey] as? ValueBudget { try budget.spend() }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let text = try Self.attempt(String.self, container) {
            self = .string(text)
        } else if let object = try Self.attempt([String: KubeValue].self, container) {
            self = .object(object)
        } else if let array = try Self.attempt([KubeValue].self, container) {
            self = .array(array)
        } else if let flag = try Self.attempt(Bool.self, container) {
            self = .bool(flag)
        } else if let integer = try? container.decode(Int.self) {
            // Only a number is left; one that is not exactly an Int (80.5, 1e20) fails here and is a Double.
            self = .integer(integer)
        } else {
            self = .number(try container.decode(Double.self))
        }
    }

    /// The value as `type`, or nil when it is of another JSON type; any other error (a malformed number or
    /// string, found only now: the decoder reads scalars lazily) is thrown.
    private static func attempt<T: Decodable>(
        _ type: T.Type, _ container: any SingleValueDecodingContainer
    ) throws -> T? {
        do {
            return try container.decode(type)
        } catch DecodingError.typeMismatch {
            return nil
        }
    }
}
