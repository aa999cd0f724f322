/// The objects of one dump in arrival order, stored in fixed-size chunks: a dump of any size is kept without the
/// repeated copies (and the fresh pages each copy touches) of one growing array. Reads like an array.
public struct DumpList<Element>: RandomAccessCollection {
    /// 4,096 addresses are about half a MiB: large enough that the list of chunks stays tiny.
    @usableFromInline static var chunkSize: Int { 4096 }
    /// Full chunks, then `tail`, the one being filled (kept apart so an append touches one array, not two levels).
    @usableFromInline var full: [[Element]] = []
    @usableFromInline var tail: [Element] = []

    @inlinable public init() {}

    public init(_ elements: some Sequence<Element>) {
        for element in elements { append(element) }
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { full.count * Self.chunkSize + tail.count }

    @inlinable
    public subscript(position: Int) -> Element {
        let chunk = position / Self.chunkSize
        if chunk < full.count { return full[chunk][position % Self.chunkSize] }
        return tail[position - full.count * Self.chunkSize]
    }

    @inlinable
    public mutating func append(_ element: Element) {
        if tail.count == Self.chunkSize {
            full.append(tail)
            tail = []
        }
        if tail.capacity == 0 { tail.reserveCapacity(Self.chunkSize) }
        tail.append(element)
    }
}

extension DumpList: Sendable where Element: Sendable {}
