namespace Gateway.Transforms.Contracts;

/// <summary>Reads the shape of a request body for prompt logs, without the logs knowing any API's JSON.</summary>
public interface IPromptShape
{
    /// <summary>The number of messages (or input items) the body sends, or null when it is not a body that has them.</summary>
    int? MessageCount(ReadOnlySpan<byte> json);
}
