namespace Gateway.Transforms.Contracts;

/// <summary>Token usage of one call.</summary>
public readonly record struct TokenUsage(int InputTokens, int OutputTokens)
{
    public int TotalTokens => InputTokens + OutputTokens;
}

/// <summary>A model's price in USD per million tokens.</summary>
public readonly record struct ModelPrice(decimal InputPerMillionUsd, decimal OutputPerMillionUsd)
{
    public decimal Cost(TokenUsage usage)
        => Math.Round((usage.InputTokens * InputPerMillionUsd + usage.OutputTokens * OutputPerMillionUsd) / 1_000_000m, 8);
}
