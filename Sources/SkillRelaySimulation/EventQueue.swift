/// The simulation's future events, earliest first; events at the same moment in the order they were scheduled.
struct EventQueue {
    enum Kind {
        case ask(person: Int, topic: Int)
        case answer(delivery: Int)
        case pass(delivery: Int)
    }

    struct Event {
        var time: Double
        var sequence: Int
        var kind: Kind

        func isBefore(_ other: Event) -> Bool { time != other.time ? time < other.time : sequence < other.sequence }
    }

    private var heap: [Event] = []
    private var sequence = 0
    /// The latest time ever scheduled.
    private(set) var last: Double?

    var peek: Event? { heap.first }

    mutating func push(at time: Double, _ kind: Kind) {
        sequence += 1
        last = max(last ?? time, time)
        heap.append(Event(time: time, sequence: sequence, kind: kind))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].isBefore(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Event? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var best = parent
            if left < heap.count, heap[left].isBefore(heap[best]) { best = left }
            if right < heap.count, heap[right].isBefore(heap[best]) { best = right }
            guard best != parent else { return top }
            heap.swapAt(parent, best)
            parent = best
        }
    }
}
