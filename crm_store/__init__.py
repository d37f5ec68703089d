"""The CRM store: customers, contacts (moments of truth) and, later, tickets and tags, via SQLAlchemy 2."""

from crm_store.contacts import recent_contacts, record_contact, update_already_recorded
from crm_store.customers import find_customer, find_or_create_customer
from crm_store.db import STORE_DOWN, Session, Store
from crm_store.models import Actor, Base, Contact, ContentKind, Customer, Direction

__all__ = [
    "STORE_DOWN",
    "Actor",
    "Base",
    "Contact",
    "ContentKind",
    "Customer",
    "Direction",
    "Session",
    "Store",
    "find_customer",
    "find_or_create_customer",
    "recent_contacts",
    "record_contact",
    "update_already_recorded",
]
