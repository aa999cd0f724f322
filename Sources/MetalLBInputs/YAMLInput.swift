import KubeInputs
import Yams

/// Multi-document YAML (MetalLB's custom resources as `kubectl get -o yaml` prints them or as people keep them
/// in git), read with Yams (libyaml) and turned into `KubeValue` trees, one per document.
///
/// Yams composes recursively and expands aliases by value, so before it sees a byte a preflight scan refuses
/// what would make it recurse without bound or blow up: nesting deeper than the limit, and anchors (without
/// anchors there are no aliases; kubectl never writes either, and aliases are how a "billion laughs" file
/// turns kilobytes into gigabytes).
enum YAMLInput {
    static func documents(_ bytes: [UInt8], file: String, limits: InputLimits) throws(KubeInputError) -> [KubeValue] {
        let text = try InputFile.text(bytes, file: file)
        try preflight(bytes, file: file, limits: limits)
        var documents: [KubeValue] = []
        var budget = limits.maximumValues
        do {
            var sequence = try Yams.compose_all(yaml: text)
            while let node = sequence.next() {
                let index = documents.count + 1
                documents.append(try convert(
                    node, depth: 0, budget: &budget, file: file, document: index, limits: limits))
            }
            if let error = sequence.error { throw error }
        } catch let error as KubeInputError {
            throw error
        } catch let error as YamlError {
            throw KubeInputError(file: file, problem: "is not valid YAML (\(describe(error))).")
        } catch {
            throw KubeInputError(file: file, problem: "is not valid YAML (\(error)).")
        }
        return documents
    }

    /// libyaml's problem and position, without the multi-line snippet Yams adds.
    static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return "\(problem) at line \(mark.line), column \(mark.column)"
        case .reader(let problem, _, _, _):
            return problem
        case .duplicatedKeysInMapping(let duplicates, let context):
            return "duplicate key \(duplicates.prefix(3).joined(separator: ", ")) at line \(context.mark.line)"
        default:
            return "\(error)".split(separator: "\n").first.map(String.init) ?? "unknown error"
        }
    }

    private static func convert(
        _ node: Node, depth: Int, budget: inout Int, file: String, document: Int, limits: InputLimits
    ) throws(KubeInputError) -> KubeValue {
        budget -= 1
        guard budget >= 0 else {
            throw KubeInputError(file: file, problem: "holds more than \(limits.maximumValues) values.")
        }
        guard depth <= limits.maximumDepth else {
            throw KubeInputError(
                file: file, problem: "document \(document) nests deeper than \(limits.maximumDepth) levels.")
        }
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return node.bool.map(KubeValue.bool) ?? .string(scalar.string)
            case .int:
                if let integer = node.int { return .integer(integer) }
                return node.float.map(KubeValue.number) ?? .string(scalar.string)
            case .float: return node.float.map(KubeValue.number) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .sequence(let sequence):
            var values: [KubeValue] = []
            for element in sequence {
                values.append(try convert(
                    element, depth: depth + 1, budget: &budget, file: file, document: document, limits: limits))
            }
            return .array(values)
        case .mapping(let mapping):
            var values: [String: KubeValue] = [:]
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    let line = key.mark.map { " at line \($0.line)" } ?? ""
                    throw KubeInputError(
                        file: file, problem: "document \(document) has a mapping key that is not a string\(line).")
                }
                values[keyScalar.string] = try convert(
                    value, depth: depth + 1, budget: &budget, file: file, document: document, limits: limits)
            }
            return .object(values)
        case .alias:
            throw KubeInputError(file: file, problem: "document \(document) uses a YAML alias, which this refuses.")
        }
    }

    /// Refuses anchors and nesting beyond the limit without parsing: a byte scan that knows quoted scalars,
    /// comments and block scalars (`|`, `>`) well enough not to look inside them.
    ///
    /// Depth is over-estimated, never under: per line, the indentation plus every `- `, `? ` and `: ` indicator
    /// plus the open flow brackets (`[`, `{`). Each nesting level costs at least one of those, so a file that
    /// passes cannot make Yams recurse deeper than twice the limit.
    static func preflight(_ bytes: [UInt8], file: String, limits: InputLimits) throws(KubeInputError) {
        let ceiling = 2 * limits.maximumDepth
        var line = 1
        var index = 0
        var flowDepth = 0
        var quote: UInt8?  // " or ' while inside a quoted scalar, which may span lines
        var blockScalarIndent: Int?  // inside a block scalar: lines indented more than this are its text
        let count = bytes.count

        func fail(_ problem: String) -> KubeInputError {
            KubeInputError(file: file, problem: "\(problem) at line \(line).")
        }

        while index < count {
            // One line: [index, end).
            var end = index
            while end < count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            var indent = 0
            while index + indent < end && bytes[index + indent] == UInt8(ascii: " ") { indent += 1 }
            let blank = index + indent == end || bytes[index + indent] == UInt8(ascii: "\r")
            if let parent = blockScalarIndent {
                if blank || indent > parent {
                    index = end + 1
                    line += 1
                    continue
                }
                blockScalarIndent = nil
            }
            var position = index + indent
            var estimate = indent + flowDepth
            var atNodeStart = true
            while position < end {
                let byte = bytes[position]
                if let open = quote {
                    if open == UInt8(ascii: "\"") && byte == UInt8(ascii: "\\") {
                        position += 2
                        continue
                    }
                    if byte == open {
                        if open == UInt8(ascii: "'") && position + 1 < end && bytes[position + 1] == open {
                            position += 2
                            continue
                        }
                        quote = nil
                    }
                    position += 1
                    continue
                }
                let previousIsSpace = position == index
                    || bytes[position - 1] == UInt8(ascii: " ") || bytes[position - 1] == UInt8(ascii: "\t")
                let next: UInt8 = position + 1 < end ? bytes[position + 1] : UInt8(ascii: " ")
                let nextIsSpace = next == UInt8(ascii: " ") || next == UInt8(ascii: "\t") || next == UInt8(ascii: "\r")
                switch byte {
                case UInt8(ascii: "#") where previousIsSpace:
                    position = end  // a comment runs to the end of the line
                    continue
                case UInt8(ascii: "\""), UInt8(ascii: "'"):
                    if atNodeStart { quote = byte }
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    if atNodeStart || flowDepth > 0 {
                        flowDepth += 1
                        estimate += 1
                        atNodeStart = true
                        position += 1
                        continue
                    }
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    if flowDepth > 0 { flowDepth -= 1 }
                case UInt8(ascii: ","):
                    if flowDepth > 0 {
                        atNodeStart = true
                        position += 1
                        continue
                    }
                case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"):
                    if nextIsSpace && (byte == UInt8(ascii: ":") || atNodeStart) {
                        estimate += 1
                        atNodeStart = true
                        position += 1
                        continue
                    }
                case UInt8(ascii: "&") where atNodeStart && !nextIsSpace:
                    throw fail("uses a YAML anchor (&), which this refuses (kubectl never writes one)")
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                    position += 1
                    continue
                default:
                    break
                }
                atNodeStart = false
                position += 1
            }
            guard estimate <= ceiling else {
                throw fail("nests deeper than \(limits.maximumDepth) levels")
            }
            // `key: |`, `- >-`, `key: |2+`: the lines after are the scalar's text.
            if quote == nil, flowDepth == 0 {
                var tail = end
                while tail > index, [UInt8(ascii: " "), UInt8(ascii: "\r")].contains(bytes[tail - 1]) { tail -= 1 }
                var head = tail
                while head > index, "+-0123456789".utf8.contains(bytes[head - 1]) { head -= 1 }
                if head > index, bytes[head - 1] == UInt8(ascii: "|") || bytes[head - 1] == UInt8(ascii: ">"),
                    head - 1 == index || bytes[head - 2] == UInt8(ascii: " ")
                {
                    blockScalarIndent = indent
                }
            }
            index = end + 1
            line += 1
        }
    }
}
