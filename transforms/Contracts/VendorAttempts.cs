namespace Gateway.Transforms.Contracts;

/// <summary>
/// Set by the host around each attempt of a vendor call: whether a retryable vendor answer may be held back for
/// another attempt (attempts left, the body can be sent again), and how long a vendor may ask to be left alone before
/// the gateway gives its answer to the caller at once instead of waiting.
/// </summary>
public sealed class VendorAttemptFeature
{
    /// <summary>1 for the first attempt.</summary>
    public int Number { get; set; }

    /// <summary>Whether a retryable answer of this attempt may be held back.</summary>
    public bool MayRetry { get; set; }

    /// <summary>The longest wait a vendor may ask for (Retry-After and the like) that the gateway still waits out.</summary>
    public TimeSpan MaxRetryAfter { get; set; }

    /// <summary>The status the vendor answered this attempt with (0 when it did not answer).</summary>
    public int VendorStatus { get; set; }

    /// <summary>When this attempt was sent: a timestamp of the host's <see cref="TimeProvider"/>.</summary>
    public long SentAt { get; set; }

    /// <summary>When the vendor's answer (status and headers) came for this attempt: a timestamp, 0 while none has.</summary>
    public long AnsweredAt { get; set; }

    /// <summary>What the library held back of this attempt's answer, or null when it let the answer through.</summary>
    public HeldVendorAnswer? Held { get; set; }
}

/// <summary>A retryable vendor answer kept from the caller: its status, and the wait the vendor asked for, if any.</summary>
public sealed record HeldVendorAnswer(int Status, TimeSpan? RetryAfter);

/// <summary>Which vendor answers are worth another attempt.</summary>
public static class RetryableStatuses
{
    /// <summary>Throttled (429, and 529 "overloaded"), or a server-side failure that a later attempt may not meet (500, 502, 503, 504).</summary>
    public static bool Contains(int status) => status is 429 or 529 or 500 or 502 or 503 or 504;
}
