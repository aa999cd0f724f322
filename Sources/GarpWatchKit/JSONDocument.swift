import FoundationEssentials

/// A JSON file (`--state`, `--node-map`) as the plain values `JSONSerialization` gives: `[String: Any]`, `[Any]`,
/// `String`, `Int` (or `Double` when not integral), `Bool`, and a null that is none of these. Read with
/// FoundationEssentials' `JSONDecoder`, so garpwatch does not link all of Foundation for two small files.
enum JSONDocument {
    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    static func value(from data: Data) throws(Invalid) -> Any {
        do {
            return try JSONDecoder().decode(Value.self, from: data).plain
        } catch let DecodingError.dataCorrupted(context) {
            let detail = context.underlyingError.map { "\($0)" }
            throw Invalid(description: detail.map { "\(context.debugDescription) \($0)" } ?? context.debugDescription)
        } catch {
            throw Invalid(description: "\(error)")
        }
    }

    /// JSON null: a value no cast to String, number, Bool, array or object matches.
    struct Null {}

    private enum Value: Decodable {
        case null, bool(Bool), integer(Int), number(Double), string(String), array([Value]), object([String: Value])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let bool = try? container.decode(Bool.self) {
                self = .bool(bool)
            } else if let integer = try? container.decode(Int.self) {
                self = .integer(integer)
            } else if let number = try? container.decode(Double.self) {
                self = .number(number)
            } else if let string = try? container.decode(String.self) {
                self = .string(string)
            } else if let array = try? container.decode([Value].self) {
                self = .array(array)
            } else {
                self = .object(try container.decode([String: Value].self))
            }
        }

        var plain: Any {
            switch self {
            case .null: Null()
            case .bool(let bool): bool
            case .integer(let integer): integer
            case .number(let number): number
            case .string(let string): string
            case .array(let array): array.map(\.plain)
            case .object(let object): object.mapValues(\.plain)
            }
        }
    }
}
