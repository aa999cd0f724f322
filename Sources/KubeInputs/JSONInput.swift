import Foundation

/// kubectl's JSON, read with Foundation's JSONSerialization and turned into `KubeValue` at once.
///
/// Why JSONSerialization and not a reader of our own: it is already in every binary that links Foundation, it
/// handles the whole of RFC 8259 (escapes, surrogate pairs, number forms) and refuses nesting deeper than 512
/// with an error instead of recursing without bound. What it gets wrong for us is typing: `true` comes back as
/// an NSNumber that also casts to `Int` 1, so the conversion below tells booleans from numbers by their class,
/// once, here. Size and depth are bounded before and while converting (`InputLimits`).
enum JSONInput {
    static func parse(_ bytes: [UInt8], file: String, limits: InputLimits) throws(KubeInputError) -> KubeValue {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "not valid JSON"
            throw KubeInputError(file: file, problem: "is not valid JSON (\(reason)).")
        }
        var budget = limits.maximumValues
        return try convert(object, depth: 0, budget: &budget, file: file, limits: limits)
    }

    private static let booleanClass: AnyClass = type(of: NSNumber(value: true))

    private static func convert(
        _ object: Any, depth: Int, budget: inout Int, file: String, limits: InputLimits
    ) throws(KubeInputError) -> KubeValue {
        budget -= 1
        guard budget >= 0 else {
            throw KubeInputError(file: file, problem: "holds more than \(limits.maximumValues) values.")
        }
        guard depth <= limits.maximumDepth else {
            throw KubeInputError(file: file, problem: "nests lists and objects deeper than \(limits.maximumDepth).")
        }
        switch object {
        case is NSNull:
            return .null
        case let text as String:
            return .string(text)
        case let number as NSNumber:
            if type(of: number) === booleanClass { return .bool(number.boolValue) }
            // Integers JSONSerialization read exactly come back as integer NSNumbers ("q"); the rest are doubles.
            let kind = String(cString: number.objCType)
            if kind != "d" && kind != "f", let integer = Int(exactly: number.int64Value) {
                return .integer(integer)
            }
            return .number(number.doubleValue)
        case let array as [Any]:
            var values: [KubeValue] = []
            values.reserveCapacity(array.count)
            for element in array {
                values.append(try convert(element, depth: depth + 1, budget: &budget, file: file, limits: limits))
            }
            return .array(values)
        case let dictionary as [String: Any]:
            var values: [String: KubeValue] = [:]
            values.reserveCapacity(dictionary.count)
            for (key, element) in dictionary {
                values[key] = try convert(element, depth: depth + 1, budget: &budget, file: file, limits: limits)
            }
            return .object(values)
        default:
            throw KubeInputError(file: file, problem: "holds a value of an unexpected kind (\(type(of: object))).")
        }
    }
}
