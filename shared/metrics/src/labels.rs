//! The closed sets of label values: call sites pass one of these, never a
//! string, so a label value cannot be misspelled or carry an id.

macro_rules! label_enum {
    ($(#[$doc:meta])* $name:ident {
        $($(#[$vdoc:meta])* $variant:ident => $value:literal),+ $(,)?
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in catalog order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The label value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value),+
                }
            }
        }
    };
}

label_enum!(
    /// `orders_failed{reason}`: why a checkout ended FAILED — exactly the
    /// order's own failure reasons. A stock reservation that expires before
    /// payment completes fails the order as `out_of_stock` (the saga's
    /// `ReservationExpired` state says so), so it has no value of its own.
    FailReason {
        OutOfStock => "out_of_stock",
        PaymentDeclined => "payment_declined",
        PaymentTimeout => "payment_timeout",
        CheckoutError => "checkout_error",
    }
);

label_enum!(
    /// `http_requests{status_class}`: the class of the answer's status,
    /// except that a refusal ops asked for at run time (a runtime flag:
    /// checkout paused) is `maintenance`, not `5xx`: it says nothing about
    /// the code, so the 5xx alarms and the canary rollback must not see it.
    StatusClass {
        Informational => "1xx",
        Success => "2xx",
        Redirection => "3xx",
        ClientError => "4xx",
        ServerError => "5xx",
        Maintenance => "maintenance",
    }
);

impl StatusClass {
    /// The class of `status` (anything outside 100..=599 is `5xx`: it is a
    /// fault of ours).
    pub const fn of(status: u16) -> Self {
        match status {
            100..=199 => StatusClass::Informational,
            200..=299 => StatusClass::Success,
            300..=399 => StatusClass::Redirection,
            400..=499 => StatusClass::ClientError,
            _ => StatusClass::ServerError,
        }
    }
}

label_enum!(
    /// `checkout_duration{outcome}`: the terminal state a checkout reached.
    CheckoutOutcome {
        Confirmed => "confirmed",
        Failed => "failed",
    }
);

label_enum!(
    /// `payment_authorizations{outcome}`.
    PaymentOutcome {
        Authorized => "authorized",
        Declined => "declined",
        TimedOut => "timed_out",
    }
);

label_enum!(
    /// `stock_reservations{outcome}`.
    StockOutcome {
        Reserved => "reserved",
        OutOfStock => "out_of_stock",
    }
);

label_enum!(
    /// `logins{method}`.
    LoginMethod {
        Password => "password",
        Google => "google",
    }
);

label_enum!(
    /// `logins{outcome}`.
    LoginOutcome {
        Success => "success",
        Failure => "failure",
        Throttled => "throttled",
    }
);

label_enum!(
    /// `events_consumed{outcome}`: what became of one delivery.
    ConsumeOutcome {
        /// The handler ran and succeeded.
        Ok => "ok",
        /// Already handled by this consumer: acknowledged, not run.
        Duplicate => "duplicate",
        /// Failed; the transport delivers it again.
        Retried => "retried",
        /// Failed for the last time: moved to the dead-letter queue.
        DeadLettered => "dead_lettered",
    }
);

label_enum!(
    /// `saga_executions{outcome}`.
    SagaOutcome {
        Started => "started",
        Confirmed => "confirmed",
        /// A business outcome: out of stock, declined, timed out.
        Refused => "refused",
        /// A technical failure (`checkout_error`), compensated.
        Failed => "failed",
    }
);

impl FailReason {
    /// The reason as the order and its `order.failed.v1` carry it, if it
    /// is one of the catalog's.
    pub fn parse(reason: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.as_str() == reason)
    }

    /// The saga outcome of a checkout that failed for this reason.
    pub const fn saga_outcome(self) -> SagaOutcome {
        match self {
            FailReason::CheckoutError => SagaOutcome::Failed,
            _ => SagaOutcome::Refused,
        }
    }
}
