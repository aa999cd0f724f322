/// An intrusive doubly linked list of flow-table slot numbers, oldest first: O(1) append, move-to-back and
/// removal, with no allocation once the slot arrays have grown to the table's size.
struct SlotList: Sendable {
    static let none: Int32 = -1

    private(set) var head: Int32 = SlotList.none
    private(set) var tail: Int32 = SlotList.none
    private(set) var count = 0
    private var previous: [Int32] = []
    private var following: [Int32] = []
    private var member: [Bool] = []

    /// Make room for slot numbers below `slots`.
    mutating func grow(to slots: Int) {
        guard slots > member.count else { return }
        let extra = slots - member.count
        previous.append(contentsOf: repeatElement(SlotList.none, count: extra))
        following.append(contentsOf: repeatElement(SlotList.none, count: extra))
        member.append(contentsOf: repeatElement(false, count: extra))
    }

    func contains(_ slot: Int32) -> Bool {
        slot >= 0 && Int(slot) < member.count && member[Int(slot)]
    }

    /// The slot after `slot`, or `none`.
    func next(after slot: Int32) -> Int32 {
        contains(slot) ? following[Int(slot)] : SlotList.none
    }

    /// Put `slot` at the back (the most recent end), moving it there if it is already listed.
    mutating func moveToBack(_ slot: Int32) {
        guard slot >= 0, Int(slot) < member.count else { return }
        if tail == slot { return }
        remove(slot)
        let index = Int(slot)
        previous[index] = tail
        following[index] = SlotList.none
        if tail >= 0 { following[Int(tail)] = slot } else { head = slot }
        tail = slot
        member[index] = true
        count += 1
    }

    mutating func remove(_ slot: Int32) {
        guard contains(slot) else { return }
        let index = Int(slot)
        let before = previous[index]
        let after = following[index]
        if before >= 0 { following[Int(before)] = after } else { head = after }
        if after >= 0 { previous[Int(after)] = before } else { tail = before }
        previous[index] = SlotList.none
        following[index] = SlotList.none
        member[index] = false
        count -= 1
    }

    mutating func removeAll() {
        self = SlotList()
    }
}
