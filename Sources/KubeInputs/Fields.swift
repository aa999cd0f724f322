/// Typed access to one object of a decoded input, with the path of each field kept so that a wrong type is
/// reported as "document 3 (BGPPeer metallb-system/tor): spec.peerASN is a string, expected a whole number
/// from 0 to 4294967295." Missing and null fields read as nil: Kubernetes omits empty fields.
package struct Fields {
    package let values: [String: KubeValue]
    /// The dotted path of this object inside its item ("spec.ports[0]"); empty at the item's root.
    package let path: String
    package let file: String
    /// Which item or document of the file ("items[3] (default/web)").
    package let context: String

    package init(_ values: [String: KubeValue], path: String = "", file: String, context: String) {
        self.values = values
        self.path = path
        self.file = file
        self.context = context
    }

    /// Reads `value` as the root of an item; it must be an object.
    package init(root value: KubeValue, file: String, context: String) throws(KubeInputError) {
        guard case .object(let values) = value else {
            throw KubeInputError(file: file, problem: "\(context) is \(value.typeName), expected an object.")
        }
        self.init(values, file: file, context: context)
    }

    package func name(of key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    package func error(_ key: String, _ problem: String) -> KubeInputError {
        KubeInputError(file: file, problem: "\(context): \(name(of: key)) \(problem)")
    }

    private func wrongType(_ key: String, _ value: KubeValue, expected: String) -> KubeInputError {
        error(key, "is \(value.typeName), expected \(expected).")
    }

    private func present(_ key: String) -> KubeValue? {
        guard let value = values[key], value != .null else { return nil }
        return value
    }

    package func object(_ key: String) throws(KubeInputError) -> Fields? {
        guard let value = present(key) else { return nil }
        guard case .object(let inner) = value else { throw wrongType(key, value, expected: "an object") }
        return Fields(inner, path: name(of: key), file: file, context: context)
    }

    package func string(_ key: String) throws(KubeInputError) -> String? {
        guard let value = present(key) else { return nil }
        guard case .string(let text) = value else { throw wrongType(key, value, expected: "a string") }
        return text
    }

    package func bool(_ key: String) throws(KubeInputError) -> Bool? {
        guard let value = present(key) else { return nil }
        guard case .bool(let flag) = value else { throw wrongType(key, value, expected: "true or false") }
        return flag
    }

    package func integer(_ key: String, in range: ClosedRange<Int>) throws(KubeInputError) -> Int? {
        guard let value = present(key) else { return nil }
        let expected = "a whole number from \(range.lowerBound) to \(range.upperBound)"
        guard case .integer(let number) = value else { throw wrongType(key, value, expected: expected) }
        guard range.contains(number) else { throw error(key, "is \(number), expected \(expected).") }
        return number
    }

    package func strings(_ key: String) throws(KubeInputError) -> [String] {
        guard let value = present(key) else { return [] }
        guard case .array(let elements) = value else { throw wrongType(key, value, expected: "a list of strings") }
        var texts: [String] = []
        for (index, element) in elements.enumerated() {
            guard case .string(let text) = element else {
                throw wrongType("\(key)[\(index)]", element, expected: "a string")
            }
            texts.append(text)
        }
        return texts
    }

    package func objects(_ key: String) throws(KubeInputError) -> [Fields] {
        guard let value = present(key) else { return [] }
        guard case .array(let elements) = value else { throw wrongType(key, value, expected: "a list of objects") }
        var objects: [Fields] = []
        for (index, element) in elements.enumerated() {
            guard case .object(let inner) = element else {
                throw wrongType("\(key)[\(index)]", element, expected: "an object")
            }
            objects.append(Fields(inner, path: name(of: "\(key)[\(index)]"), file: file, context: context))
        }
        return objects
    }

    /// A string-to-string map such as `metadata.annotations` or `matchLabels`.
    package func stringMap(_ key: String) throws(KubeInputError) -> [String: String] {
        guard let value = present(key) else { return [:] }
        guard case .object(let inner) = value else { throw wrongType(key, value, expected: "an object of strings") }
        var map: [String: String] = [:]
        for (name, element) in inner {
            guard case .string(let text) = element else {
                throw wrongType("\(key).\(name)", element, expected: "a string")
            }
            map[name] = text
        }
        return map
    }

    /// `metadata.namespace/metadata.name` of an object, for error contexts ("-" when a part is missing).
    package static func identity(of value: KubeValue) -> (namespace: String?, name: String?) {
        guard case .object(let root) = value, case .object(let metadata)? = root["metadata"] else { return (nil, nil) }
        var namespace: String?
        var name: String?
        if case .string(let text)? = metadata["namespace"] { namespace = text }
        if case .string(let text)? = metadata["name"] { name = text }
        return (namespace, name)
    }

    package static func kind(of value: KubeValue) -> (apiVersion: String?, kind: String?) {
        guard case .object(let root) = value else { return (nil, nil) }
        var apiVersion: String?
        var kind: String?
        if case .string(let text)? = root["apiVersion"] { apiVersion = text }
        if case .string(let text)? = root["kind"] { kind = text }
        return (apiVersion, kind)
    }
}

/// The items of a kubectl answer: a `List` (what `kubectl get -o json|yaml` prints, also `ServiceList` and
/// friends from the API directly) gives its `items`; a single object is one item.
package func listItems(_ value: KubeValue, file: String) throws(KubeInputError) -> [KubeValue] {
    guard case .object(let root) = value else {
        throw KubeInputError(file: file, problem: "is \(value.typeName), expected a Kubernetes object or List.")
    }
    if let items = root["items"] {
        switch items {
        case .array(let elements): return elements
        case .null: return []
        default:
            throw KubeInputError(file: file, problem: "items is \(items.typeName), expected a list of objects.")
        }
    }
    guard root["kind"] != nil else {
        throw KubeInputError(file: file, problem: "has neither kind nor items: not kubectl output.")
    }
    return [value]
}
