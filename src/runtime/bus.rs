//! Event listeners: a list of callbacks that a listener may change while being called.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

type Listener<T> = Rc<dyn Fn(&T)>;

/// The listeners with their ids, shared with the emits under way.
type ListenerList<T> = Rc<Vec<(u64, Listener<T>)>>;

/// A synchronous event bus for one thread.
pub struct EventBus<T> {
    next: Cell<u64>,
    /// Replaced (copy on write) when listeners change, so an emit only clones the `Rc`.
    listeners: RefCell<ListenerList<T>>,
}

impl<T> Default for EventBus<T> {
    fn default() -> Self {
        EventBus {
            next: Cell::new(1),
            listeners: RefCell::new(Rc::new(Vec::new())),
        }
    }
}

impl<T> std::fmt::Debug for EventBus<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EventBus({} listeners)", self.listeners.borrow().len())
    }
}

impl<T> EventBus<T> {
    /// An empty bus.
    pub fn new() -> Self {
        EventBus::default()
    }

    /// Adds a listener; returns its id for [`EventBus::unsubscribe`].
    pub fn subscribe(&self, f: impl Fn(&T) + 'static) -> u64 {
        let id = self.next.get();
        self.next.set(id + 1);
        Rc::make_mut(&mut *self.listeners.borrow_mut()).push((id, Rc::new(f)));
        id
    }

    /// Removes a listener (no effect if already removed).
    pub fn unsubscribe(&self, id: u64) {
        Rc::make_mut(&mut *self.listeners.borrow_mut()).retain(|(i, _)| *i != id);
    }

    /// Calls every listener with `event`. Listeners added or removed meanwhile take effect
    /// from the next event on.
    pub fn emit(&self, event: &T) {
        let snapshot = self.listeners.borrow().clone();
        for (_, f) in snapshot.iter() {
            f(event);
        }
    }

    /// How many listeners there are.
    pub fn len(&self) -> usize {
        self.listeners.borrow().len()
    }

    /// Whether there are no listeners.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listener_may_unsubscribe_itself_while_called() {
        let bus: Rc<EventBus<u32>> = Rc::new(EventBus::new());
        let seen = Rc::new(RefCell::new(Vec::new()));
        let id = Rc::new(Cell::new(0));
        let (b, s, i) = (bus.clone(), seen.clone(), id.clone());
        id.set(bus.subscribe(move |e| {
            s.borrow_mut().push(*e);
            b.unsubscribe(i.get());
        }));
        bus.emit(&1);
        bus.emit(&2);
        assert_eq!(*seen.borrow(), vec![1]);
        assert!(bus.is_empty());
    }
}
