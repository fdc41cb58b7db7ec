import Foundation

/// A blocking FIFO between two threads, bounded by a caller-defined cost (e.g. bytes): `push` waits while the queue
/// is over its budget, `pop` waits (up to a timeout) for an element. `close` wakes everyone; then `pop` drains what is
/// left and returns `.closed`.
final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
    enum PopResult { case element(Element), timedOut, closed }

    private let condition = NSCondition()
    private var items: [(Element, Int)] = []
    private var head = 0
    private var cost = 0
    private let budget: Int
    private var isClosed = false

    init(budget: Int) { self.budget = budget }

    /// Appends `element`; blocks while the queued cost is over the budget. Returns false when the queue was closed.
    @discardableResult
    func push(_ element: Element, cost elementCost: Int) -> Bool {
        condition.lock(); defer { condition.unlock() }
        while cost > budget && !isClosed { condition.wait() }
        if isClosed { return false }
        items.append((element, elementCost))
        cost += elementCost
        condition.broadcast()
        return true
    }

    enum PushResult { case pushed, timedOut, closed }

    /// Appends `element` once the queued cost is within the budget, waiting at most `timeout` seconds for that.
    /// On `.timedOut` nothing was added: the caller may do other work (answer the server) and try again.
    func push(_ element: Element, cost elementCost: Int, timeout: Double) -> PushResult {
        condition.lock(); defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(max(0, timeout))
        while cost > budget && !isClosed {
            if !condition.wait(until: deadline) && cost > budget && !isClosed { return .timedOut }
        }
        if isClosed { return .closed }
        items.append((element, elementCost))
        cost += elementCost
        condition.broadcast()
        return .pushed
    }

    /// Takes the oldest element, waiting up to `timeout` seconds.
    func pop(timeout: Double) -> PopResult {
        condition.lock(); defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(max(0, timeout))
        while head == items.count {
            if isClosed { return .closed }
            if !condition.wait(until: deadline) && head == items.count { return isClosed ? .closed : .timedOut }
        }
        let (element, elementCost) = items[head]
        head += 1
        cost -= elementCost
        if head > 1024 && head * 2 > items.count { items.removeFirst(head); head = 0 }
        condition.broadcast()
        return .element(element)
    }

    /// True when nothing waits to be popped (the consumer has caught up with the producer).
    var isEmpty: Bool { condition.lock(); defer { condition.unlock() }; return head == items.count }

    func close() {
        condition.lock(); isClosed = true; condition.broadcast(); condition.unlock()
    }
}
