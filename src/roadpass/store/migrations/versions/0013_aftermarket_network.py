"""aftermarket repair network: repairers, sites, SERMI approvals and personal authorisations, security-related
requests and credential uses, stolen-part reports and the parts-check log

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-06 04:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('aftermarket_authorisation_revocation',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('authorisation_key', sa.String(length=64), nullable=False),
    sa.Column('revoked_at', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('op_id', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftermarket_authorisation_revocation')),
    sa.UniqueConstraint('authorisation_key', name=op.f('uq_aftermarket_authorisation_revocation_authorisation_key'))
    )
    op.create_index(op.f('ix_aftermarket_authorisation_revocation_op_id'), 'aftermarket_authorisation_revocation', ['op_id'], unique=False)
    op.create_table('aftermarket_credential_use',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_key', sa.String(length=64), nullable=False),
    sa.Column('used_at', sa.BigInteger(), nullable=False),
    sa.Column('accepted', sa.SmallInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('op_id', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftermarket_credential_use'))
    )
    op.create_index(op.f('ix_aftermarket_credential_use_op_id'), 'aftermarket_credential_use', ['op_id'], unique=False)
    op.create_index(op.f('ix_aftermarket_credential_use_request_key'), 'aftermarket_credential_use', ['request_key'], unique=False)
    op.create_table('aftermarket_operator_approval',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('approval_key', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('party_key', sa.String(length=200), nullable=False),
    sa.Column('assessing_body', sa.String(length=300), nullable=False, comment='the conformity assessment body (CAB)'),
    sa.Column('country', sa.String(length=2), nullable=False, comment="Member State of the CAB's accreditation"),
    sa.Column('valid_from', sa.BigInteger(), nullable=False),
    sa.Column('valid_until', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False, comment='active, suspended, withdrawn'),
    sa.Column('recorded_at', sa.BigInteger(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('op_id', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftermarket_operator_approval')),
    sa.UniqueConstraint('approval_key', 'version', name=op.f('uq_aftermarket_operator_approval_approval_key_version'))
    )
    op.create_index(op.f('ix_aftermarket_operator_approval_op_id'), 'aftermarket_operator_approval', ['op_id'], unique=False)
    op.create_index(op.f('ix_aftermarket_operator_approval_party_key'), 'aftermarket_operator_approval', ['party_key'], unique=False)
    op.create_table('aftermarket_part_check',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('checked_at', sa.BigInteger(), nullable=False),
    sa.Column('part_key', sa.String(length=300), nullable=False),
    sa.Column('maker_key', sa.String(length=200), nullable=True, comment='the party whose company prefix issued the key'),
    sa.Column('checker', sa.String(length=300), nullable=False),
    sa.Column('vin', sa.String(length=100), nullable=True, comment='the vehicle the part was scanned in'),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftermarket_part_check'))
    )
    op.create_index('ix_aftermarket_part_check_maker_key_id', 'aftermarket_part_check', ['maker_key', 'id'], unique=False)
    op.create_table('aftermarket_part_report',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('part_key', sa.String(length=300), nullable=False, comment='canonical GS1 key of the part'),
    sa.Column('status', sa.String(length=16), nullable=False, comment='stolen or recovered; the latest row stands'),
    sa.Column('reference', sa.String(length=300), nullable=False, comment='e.g. the police case number'),
    sa.Column('reported_at', sa.BigInteger(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('op_id', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftermarket_part_report'))
    )
    op.create_index(op.f('ix_aftermarket_part_report_op_id'), 'aftermarket_part_report', ['op_id'], unique=False)
    op.create_index(op.f('ix_aftermarket_part_report_part_key'), 'aftermarket_part_report', ['part_key'], unique=False)
    op.create_table('aftermarket_person_authorisation',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('authorisation_key', sa.String(length=64), nullable=False),
    sa.Column('party_key', sa.String(length=200), nullable=False, comment='the employer'),
    sa.Column('person_name', sa.String(length=300), nullable=False),
    sa.Column('person_email', sa.String(length=254), nullable=True, comment="the person's sign-in, lower case"),
    sa.Column('identity_checked_by', sa.String(length=300), nullable=True),
    sa.Column('identity_checked_at', sa.BigInteger(), nullable=True),
    sa.Column('residence_country', sa.String(length=2), nullable=False),
    sa.Column('valid_from', sa.BigInteger(), nullable=False),
    sa.Column('valid_until', sa.BigInteger(), nullable=False),
    sa.Column('recorded_at', sa.BigInteger(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('op_id', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftermarket_person_authorisation')),
    sa.UniqueConstraint('authorisation_key', name=op.f('uq_aftermarket_person_authorisation_authorisation_key'))
    )
    op.create_index(op.f('ix_aftermarket_person_authorisation_op_id'), 'aftermarket_person_authorisation', ['op_id'], unique=False)
    op.create_index(op.f('ix_aftermarket_person_authorisation_party_key'), 'aftermarket_person_authorisation', ['party_key'], unique=False)
    op.create_table('aftermarket_repairer',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('party_key', sa.String(length=200), nullable=False, comment='the access party (role repairer)'),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False, comment="authorised (the maker's network) or independent"),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('brands', sa.Text(), nullable=False, comment='JSON list of brands served'),
    sa.Column('qualifications', sa.Text(), nullable=False, comment='JSON list, e.g. high_voltage'),
    sa.Column('markets', sa.Text(), nullable=False, comment='JSON list of ISO 3166-1 alpha-2 markets served'),
    sa.Column('recorded_at', sa.BigInteger(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('op_id', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftermarket_repairer')),
    sa.UniqueConstraint('party_key', 'version', name=op.f('uq_aftermarket_repairer_party_key_version'))
    )
    op.create_index(op.f('ix_aftermarket_repairer_op_id'), 'aftermarket_repairer', ['op_id'], unique=False)
    op.create_table('aftermarket_repairer_site',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('party_key', sa.String(length=200), nullable=False),
    sa.Column('gln', sa.String(length=13), nullable=False, comment='GS1 Global Location Number of the workshop'),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('recorded_at', sa.BigInteger(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('op_id', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftermarket_repairer_site')),
    sa.UniqueConstraint('party_key', 'gln', name=op.f('uq_aftermarket_repairer_site_party_key_gln'))
    )
    op.create_index(op.f('ix_aftermarket_repairer_site_op_id'), 'aftermarket_repairer_site', ['op_id'], unique=False)
    op.create_table('aftermarket_security_request',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_key', sa.String(length=64), nullable=False),
    sa.Column('authorisation_key', sa.String(length=64), nullable=False),
    sa.Column('party_key', sa.String(length=200), nullable=False),
    sa.Column('vin', sa.String(length=100), nullable=False),
    sa.Column('vehicle_key', sa.String(length=300), nullable=True),
    sa.Column('maker_key', sa.String(length=200), nullable=True),
    sa.Column('market', sa.String(length=2), nullable=True),
    sa.Column('function', sa.String(length=64), nullable=False),
    sa.Column('requested_at', sa.BigInteger(), nullable=False),
    sa.Column('granted', sa.SmallInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('rule', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=True),
    sa.Column('credential_hash', sa.String(length=64), nullable=True, comment='SHA-256 of the credential'),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('op_id', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftermarket_security_request')),
    sa.UniqueConstraint('credential_hash', name=op.f('uq_aftermarket_security_request_credential_hash')),
    sa.UniqueConstraint('request_key', name=op.f('uq_aftermarket_security_request_request_key'))
    )
    op.create_index(op.f('ix_aftermarket_security_request_authorisation_key'), 'aftermarket_security_request', ['authorisation_key'], unique=False)
    op.create_index(op.f('ix_aftermarket_security_request_maker_key'), 'aftermarket_security_request', ['maker_key'], unique=False)
    op.create_index(op.f('ix_aftermarket_security_request_market'), 'aftermarket_security_request', ['market'], unique=False)
    op.create_index(op.f('ix_aftermarket_security_request_op_id'), 'aftermarket_security_request', ['op_id'], unique=False)
    op.create_index(op.f('ix_aftermarket_security_request_party_key'), 'aftermarket_security_request', ['party_key'], unique=False)
    op.create_index(op.f('ix_aftermarket_security_request_vin'), 'aftermarket_security_request', ['vin'], unique=False)


def downgrade() -> None:
    op.drop_table("aftermarket_security_request")
    op.drop_table("aftermarket_repairer_site")
    op.drop_table("aftermarket_repairer")
    op.drop_table("aftermarket_person_authorisation")
    op.drop_table("aftermarket_part_report")
    op.drop_table("aftermarket_part_check")
    op.drop_table("aftermarket_operator_approval")
    op.drop_table("aftermarket_credential_use")
    op.drop_table("aftermarket_authorisation_revocation")
