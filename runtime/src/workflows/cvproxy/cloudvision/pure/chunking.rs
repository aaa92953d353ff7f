//! Splitting a list when CloudVision rejects a message as too large
//! (spec 5, RESOURCE_EXHAUSTED).

/// `(size, max)` from grpc-go's exact message
/// `grpc: received message larger than max (<size> vs. <max>)`; `None` for
/// any other text.
pub fn parse_size_exceeded(message: &str) -> Option<(u64, u64)> {
    let rest = message.strip_prefix("grpc: received message larger than max (")?;
    let rest = rest.strip_suffix(')')?;
    let (size, max) = rest.split_once(" vs. ")?;
    let number = |s: &str| {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(s.parse::<u64>().unwrap_or(u64::MAX))
    };
    Some((number(size)?, number(max)?))
}

/// `max(2, ceil(size / max))` (a zero max counts as 2).
pub fn split_ratio(size: u64, max: u64) -> u64 {
    if max == 0 {
        return 2;
    }
    size.div_ceil(max).max(2)
}

/// Items per chunk: `len // ratio`, at least 1.
pub fn chunk_len(len: usize, ratio: u64) -> usize {
    let ratio = usize::try_from(ratio).unwrap_or(usize::MAX).max(1);
    (len / ratio).max(1)
}

/// Split into consecutive chunks of `chunk_len` items (the last may be shorter).
pub fn into_chunks<T>(items: Vec<T>, chunk_len: usize) -> Vec<Vec<T>> {
    let chunk_len = chunk_len.max(1);
    let mut chunks = Vec::with_capacity(items.len().div_ceil(chunk_len));
    let mut current = Vec::with_capacity(chunk_len);
    for item in items {
        current.push(item);
        if current.len() == chunk_len {
            chunks.push(std::mem::replace(
                &mut current,
                Vec::with_capacity(chunk_len),
            ));
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}
