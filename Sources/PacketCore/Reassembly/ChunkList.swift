/// The out-of-order chunks of one direction, in stream order, with O(1) insertion at both ends and
/// O(1) removal from the front.
///
/// Why not a plain array: segments that arrive in reverse order (a reordering queue, a capture merged
/// from two taps) each go in front of everything held, and inserting at index 0 of an array moves every
/// chunk already there: 100,000 reversed segments were 5 billion moves. Here the chunks live in two
/// arrays: `front` holds the lowest ones in reverse order (so a new lowest chunk is appended to it), and
/// `back[head...]` the rest in order (a new highest chunk is appended, delivered chunks advance `head`).
/// Only an insertion strictly between two held chunks moves elements, within one of the two arrays.
struct ChunkList: RandomAccessCollection, Sendable {
    typealias Element = FlowDirection.Chunk

    /// The lowest chunks, last element first in stream order.
    private var front: [Element] = []
    /// The other chunks in stream order, from `head` on (the ones before `head` were removed).
    private var back: [Element] = []
    private var head = 0

    var startIndex: Int { 0 }
    var endIndex: Int { front.count + back.count - head }

    subscript(position: Int) -> Element {
        get {
            position < front.count ? front[front.count - 1 - position] : back[head + position - front.count]
        }
        set {
            if position < front.count {
                front[front.count - 1 - position] = newValue
            } else {
                back[head + position - front.count] = newValue
            }
        }
    }

    mutating func insert(_ chunk: Element, at position: Int) {
        if position == 0 {
            front.append(chunk)
        } else if position >= count {
            back.append(chunk)
        } else if position <= front.count {
            front.insert(chunk, at: front.count - position)
        } else {
            back.insert(chunk, at: head + position - front.count)
        }
    }

    /// Remove the first `k` chunks (`k <= count`).
    mutating func removeFirst(_ k: Int) {
        var remaining = k
        let fromFront = Swift.min(remaining, front.count)
        if fromFront > 0 {
            front.removeLast(fromFront)
            remaining -= fromFront
        }
        head += remaining
        if head == back.count {
            back.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024, head > back.count / 2 {
            // Give back the removed slots once they are most of the array (amortised O(1) per removal).
            back.removeFirst(head)
            head = 0
        }
    }

    mutating func removeLast() {
        if back.count > head {
            back.removeLast()
            if back.count == head {
                back.removeAll(keepingCapacity: true)
                head = 0
            }
        } else {
            front.removeFirst()
        }
    }
}
