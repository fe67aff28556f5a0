namespace Workq.Control.Apis;

/// <summary>Why a quarantined message cannot be redriven (409): a flush's row, or nowhere left to put it.</summary>
public sealed class NotRedrivableException(string message) : Exception(message);
