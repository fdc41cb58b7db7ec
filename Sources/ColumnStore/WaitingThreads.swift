import Foundation

/// Threads for work that mostly waits on the disk (`Parallel.forEachWaiting`): each submitted item runs at once on a
/// thread of its own, an idle one if there is one, else a new one; a thread that finished waits for the next item
/// instead of ending. Holds as many threads as were ever busy at once (a commit round's fsyncs: a few per table).
final class WaitingThreads: @unchecked Sendable {
    static let shared = WaitingThreads()

    private let condition = NSCondition()
    private var items: [@Sendable () -> Void] = []
    private var idle = 0

    /// Runs `item` on a waiting thread now.
    func run(_ item: @escaping @Sendable () -> Void) {
        condition.lock()
        items.append(item)
        if idle >= items.count {
            condition.signal()
            condition.unlock()
            return
        }
        condition.unlock()
        Thread.detachNewThread { [self] in loop() }
    }

    private func loop() {
        condition.lock()
        while true {
            while items.isEmpty {
                idle += 1
                condition.wait()
                idle -= 1
            }
            let item = items.removeFirst()
            condition.unlock()
            item()
            condition.lock()
        }
    }
}
