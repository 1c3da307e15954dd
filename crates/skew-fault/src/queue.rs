//! A fixed-capacity deadline queue: items come out in order of their due time (ties in
//! the order they went in), and an item that does not fit is handed back so the caller
//! can drop and count it. Nothing allocates after construction.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Items waiting for their due time (monotonic ns), at most `capacity` at once.
#[derive(Debug)]
pub struct DeadlineQueue<T> {
    heap: BinaryHeap<Reverse<(i64, u64, usize)>>,
    slots: Vec<Option<T>>,
    free: Vec<usize>,
    seq: u64,
}

impl<T> DeadlineQueue<T> {
    /// An empty queue for at most `capacity` items (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        DeadlineQueue {
            heap: BinaryHeap::with_capacity(capacity),
            slots: (0..capacity).map(|_| None).collect(),
            free: (0..capacity).rev().collect(),
            seq: 0,
        }
    }

    /// The capacity.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Items waiting.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Adds `item` due at `due_ns`; hands it back when the queue is full.
    pub fn push(&mut self, due_ns: i64, item: T) -> Result<(), T> {
        let Some(slot) = self.free.pop() else {
            return Err(item);
        };
        self.slots[slot] = Some(item);
        self.heap.push(Reverse((due_ns, self.seq, slot)));
        self.seq += 1;
        Ok(())
    }

    /// The earliest due time, if any item waits.
    pub fn next_due_ns(&self) -> Option<i64> {
        self.heap.peek().map(|Reverse((due, _, _))| *due)
    }

    /// Removes and returns the earliest item if it is due at `now_ns`.
    pub fn pop_due(&mut self, now_ns: i64) -> Option<(i64, T)> {
        match self.next_due_ns() {
            Some(due) if due <= now_ns => self.pop(),
            _ => None,
        }
    }

    /// Removes and returns the earliest item, due or not.
    pub fn pop(&mut self) -> Option<(i64, T)> {
        let Reverse((due, _, slot)) = self.heap.pop()?;
        let item = self.slots[slot].take();
        self.free.push(slot);
        item.map(|i| (due, i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn order_ties_and_capacity() {
        let mut q = DeadlineQueue::with_capacity(3);
        q.push(30, "c").unwrap();
        q.push(10, "a").unwrap();
        q.push(10, "b").unwrap();
        assert_eq!(q.push(5, "d"), Err("d"));
        assert_eq!(q.len(), 3);
        assert_eq!(q.next_due_ns(), Some(10));
        assert_eq!(q.pop_due(9), None);
        assert_eq!(q.pop_due(10), Some((10, "a")));
        assert_eq!(q.pop_due(10), Some((10, "b")));
        assert_eq!(q.pop_due(29), None);
        q.push(20, "e").unwrap();
        assert_eq!(q.pop_due(100), Some((20, "e")));
        assert_eq!(q.pop(), Some((30, "c")));
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
        assert_eq!(q.capacity(), 3);
    }

    proptest! {
        #[test]
        fn pops_sorted_and_never_exceeds_capacity(dues in proptest::collection::vec(-1000i64..1000, 0..64), cap in 1usize..32) {
            let mut q = DeadlineQueue::with_capacity(cap);
            let mut accepted = vec![];
            for (i, d) in dues.iter().enumerate() {
                if q.push(*d, i).is_ok() { accepted.push((*d, i)); }
                prop_assert!(q.len() <= cap);
            }
            accepted.sort();
            let mut out = vec![];
            while let Some(x) = q.pop() { out.push(x); }
            prop_assert_eq!(out, accepted);
        }
    }
}
